/**
 * Protocol transcripts: what a server answers to a sequence of messages, rendered as one line per
 * message (`C SELECT 1`, `D 1|2`, `E 22012`, `N WARNING 25001 there is ...`, `Z T`), so a gateway
 * and native PostgreSQL can be compared message for message.
 */
import { RawSession, parseError, type BackendMessage } from '../clients/raw-session.js'

function dataRow(body: Buffer): string {
  const n = body.readInt16BE(0)
  const vals: string[] = []
  let pos = 2
  for (let i = 0; i < n; i++) {
    const len = body.readInt32BE(pos)
    pos += 4
    if (len < 0) vals.push('NULL')
    else {
      vals.push(body.toString('utf8', pos, pos + len))
      pos += len
    }
  }
  return vals.join('|')
}

function rowDescription(body: Buffer): string {
  const n = body.readInt16BE(0)
  const cols: string[] = []
  let pos = 2
  for (let i = 0; i < n; i++) {
    const end = body.indexOf(0, pos)
    const name = body.toString('utf8', pos, end)
    pos = end + 1
    const typeOid = body.readInt32BE(pos + 6)
    const format = body.readInt16BE(pos + 16)
    pos += 18
    cols.push(`${name}:${typeOid}${format ? ':b' : ''}`)
  }
  return cols.join(',')
}

export function render(m: BackendMessage): string {
  switch (m.type) {
    case 'C':
      return `C ${m.body.toString('utf8', 0, m.body.length - 1)}`
    case 'D':
      return `D ${dataRow(m.body)}`
    case 'T':
      return `T ${rowDescription(m.body)}`
    case 'E': {
      const e = parseError(m.body)
      return `E ${e.code} ${e.message}`
    }
    case 'N': {
      const e = parseError(m.body)
      return `N ${e.severity} ${e.code} ${e.message}`
    }
    case 'Z':
      return `Z ${m.body.toString('latin1')}`
    case 'S': {
      const [k, v] = m.body.toString('utf8').split('\0')
      return `S ${k}=${v}`
    }
    case 't': {
      const n = m.body.readInt16BE(0)
      return `t ${Array.from({ length: n }, (_, i) => m.body.readInt32BE(2 + 4 * i)).join(',')}`
    }
    default:
      return m.type
  }
}

/** Sends `bytes`, then reads until `syncs` ReadyForQuery messages have arrived. */
export async function exchange(session: RawSession, bytes: Buffer, syncs = 1): Promise<string[]> {
  session.write(bytes)
  const out: string[] = []
  let seen = 0
  while (seen < syncs) {
    const m = await session.expect(15_000)
    out.push(render(m))
    if (m.type === 'Z') seen++
  }
  return out
}
