/**
 * A subset of go-bexpr, the language of Consul's `?filter=` parameter, for the project's Consul
 * test server: `==`, `!=`, `in`, `not in`, `contains`, `not contains`, `matches`, `not matches`,
 * `is empty`, `is not empty`, `and`, `or`, `not` and parentheses, over dotted selectors such as
 * `Service.Meta.schema` or `Checks.Status` (a selector through a list yields the list of values).
 * Unlike bexpr it does not check selectors against the Go struct: an unknown field is empty.
 */
import { badRequest } from './http-util.js'

type Token = { kind: 'word' | 'str' | 'punct'; text: string }
export type Predicate = (item: unknown) => boolean

export function compileFilter(source: string): Predicate {
  const fail = (why: string): never => {
    throw badRequest(`Failed to create boolean expression evaluator: ${why}`)
  }
  const tokens = tokenize(source, fail)
  let pos = 0
  const peek = (n = 0) => tokens[pos + n]
  const isWord = (t: Token | undefined, w: string) => t?.kind === 'word' && t.text === w
  const take = () => tokens[pos++] ?? fail('unexpected end of expression')
  const expect = (text: string) => (take().text === text ? undefined : fail(`expected ${JSON.stringify(text)}`))

  const orExpr = (): Predicate => {
    let left = andExpr()
    while (isWord(peek(), 'or')) {
      pos++
      const l = left
      const r = andExpr()
      left = (x) => l(x) || r(x)
    }
    return left
  }
  const andExpr = (): Predicate => {
    let left = notExpr()
    while (isWord(peek(), 'and')) {
      pos++
      const l = left
      const r = notExpr()
      left = (x) => l(x) && r(x)
    }
    return left
  }
  const notExpr = (): Predicate => {
    if (isWord(peek(), 'not')) {
      pos++
      const inner = notExpr()
      return (x) => !inner(x)
    }
    if (peek()?.text === '(' && peek()?.kind === 'punct') {
      pos++
      const inner = orExpr()
      expect(')')
      return inner
    }
    return match()
  }
  const selector = (): string[] => {
    const t = take()
    if (t.kind !== 'word') fail(`expected a selector, found ${JSON.stringify(t.text)}`)
    const path = [t.text]
    for (;;) {
      if (peek()?.text === '.' && peek()?.kind === 'punct') {
        pos++
        const part = take()
        if (part.kind === 'punct') fail('expected a field name after "."')
        path.push(part.text)
      } else if (peek()?.text === '[' && peek()?.kind === 'punct') {
        pos++
        path.push(take().text)
        expect(']')
      } else return path
    }
  }
  const value = (): string => {
    const t = take()
    if (t.kind === 'punct') fail(`expected a value, found ${JSON.stringify(t.text)}`)
    return t.text
  }
  const match = (): Predicate => {
    const first = peek()
    // `"v" in Sel` / `"v" not in Sel`: a value first.
    if (first?.kind === 'str' || (first?.kind === 'word' && (isWord(peek(1), 'in') || (isWord(peek(1), 'not') && isWord(peek(2), 'in'))))) {
      const v = value()
      const negate = isWord(peek(), 'not')
      if (negate) pos++
      if (!isWord(take(), 'in')) fail('expected "in"')
      const sel = selector()
      return (x) => contains(resolve(x, sel), v) !== negate
    }
    const sel = selector()
    const op = take()
    if (op.kind === 'punct' && (op.text === '==' || op.text === '!=')) {
      const v = value()
      return (x) => equals(resolve(x, sel), v) === (op.text === '==')
    }
    let negate = false
    let word = op.text
    if (word === 'is') {
      negate = isWord(peek(), 'not')
      if (negate) pos++
      if (!isWord(take(), 'empty')) fail('expected "empty"')
      return (x) => isEmpty(resolve(x, sel)) !== negate
    }
    if (word === 'not') {
      negate = true
      word = take().text
    }
    if (word === 'contains') {
      const v = value()
      return (x) => contains(resolve(x, sel), v) !== negate
    }
    if (word === 'matches') {
      let re: RegExp
      try {
        re = new RegExp(value())
      } catch (err) {
        return fail((err as Error).message)
      }
      return (x) => {
        const got = resolve(x, sel)
        return (typeof got === 'string' && re.test(got)) !== negate
      }
    }
    return fail(`unknown operator ${JSON.stringify(op.text)}`)
  }

  const pred = orExpr()
  if (pos < tokens.length) fail(`unexpected ${JSON.stringify(tokens[pos]!.text)}`)
  return pred
}

function tokenize(src: string, fail: (why: string) => never): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < src.length) {
    const ch = src[i]!
    if (/\s/.test(ch)) {
      i++
    } else if (src.startsWith('==', i) || src.startsWith('!=', i)) {
      out.push({ kind: 'punct', text: src.slice(i, i + 2) })
      i += 2
    } else if ('().[]'.includes(ch)) {
      out.push({ kind: 'punct', text: ch })
      i++
    } else if (ch === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(src.slice(i)) ?? fail('unterminated string')
      out.push({ kind: 'str', text: JSON.parse(m[0]) as string })
      i += m[0].length
    } else if (ch === '`') {
      const end = src.indexOf('`', i + 1)
      if (end < 0) fail('unterminated raw string')
      out.push({ kind: 'str', text: src.slice(i + 1, end) })
      i = end + 1
    } else {
      const m = /^[A-Za-z0-9_\-/:+]+/.exec(src.slice(i)) ?? fail(`unexpected character ${JSON.stringify(ch)}`)
      out.push({ kind: 'word', text: m[0] })
      i += m[0].length
    }
  }
  return out
}

function resolve(item: unknown, path: readonly string[]): unknown {
  let cur: unknown = item
  for (const [i, part] of path.entries()) {
    if (Array.isArray(cur)) return cur.map((el) => resolve(el, path.slice(i)))
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur
}

const scalar = (v: unknown) => (v === undefined || v === null ? '' : String(v))

function equals(got: unknown, want: string): boolean {
  if (Array.isArray(got) || (typeof got === 'object' && got !== null)) return false
  return scalar(got) === want
}

function contains(got: unknown, want: string): boolean {
  if (Array.isArray(got)) return got.flat().some((el) => scalar(el) === want)
  if (typeof got === 'string') return got.includes(want)
  if (typeof got === 'object' && got !== null) return Object.hasOwn(got, want)
  return false
}

function isEmpty(got: unknown): boolean {
  if (got === undefined || got === null || got === '') return true
  if (Array.isArray(got)) return got.length === 0
  if (typeof got === 'object') return Object.keys(got).length === 0
  return false
}

/** The request's `?filter=`, compiled; a pass-everything predicate when absent. */
export function filterFromQuery(query: URLSearchParams): Predicate {
  const source = query.get('filter')
  return source ? compileFilter(source) : () => true
}
