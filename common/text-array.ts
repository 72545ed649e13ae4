/** PostgreSQL's text form of a one-dimensional text[] value, read back (planner literals, archives). */

/** A one-dimensional text array literal ('{a,"b c",NULL}'); undefined for anything fancier. */
export function parseArrayLiteral(s: string): (string | null)[] | undefined {
  const t = s.trim()
  if (!t.startsWith('{') || !t.endsWith('}')) return undefined
  const inner = t.slice(1, -1)
  if (inner.trim() === '') return []
  const out: (string | null)[] = []
  let i = 0
  while (i <= inner.length) {
    while (inner[i] === ' ') i++
    if (inner[i] === '"') {
      let v = ''
      i++
      while (i < inner.length && inner[i] !== '"') {
        if (inner[i] === '\\') i++
        v += inner[i++]
      }
      if (inner[i] !== '"') return undefined
      i++
      out.push(v)
    } else {
      let j = i
      while (j < inner.length && inner[j] !== ',') j++
      const raw = inner.slice(i, j).trim()
      if (raw.includes('{') || raw.includes('"') || raw.includes('\\')) return undefined
      out.push(raw.toUpperCase() === 'NULL' ? null : raw)
      i = j
    }
    while (inner[i] === ' ') i++
    if (i >= inner.length) break
    if (inner[i] !== ',') return undefined
    i++
  }
  return out
}
