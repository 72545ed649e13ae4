/**
 * CIDR blocks and the IP addresses found in a field's text. KubeArmor writes addresses inside
 * key=value text (`sin_addr=10.0.0.10`, `remoteip=…`) as well as on their own, so a field
 * matches a block when any address token in it falls inside.
 */
import { isIP } from 'node:net'

export interface CidrBlock {
  readonly text: string
  readonly family: 4 | 6
  readonly bits: bigint
  readonly prefix: number
}

function ipBits(ip: string, family: 4 | 6): bigint {
  if (family === 4) return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n)
  // Expand '::' and an embedded IPv4 tail into eight 16-bit groups.
  let text = ip
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (v4) {
    const n = ipBits(v4[1]!, 4)
    text = text.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`
  }
  const [head, tail] = text.split('::') as [string, string | undefined]
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n)
}

/** Parses `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128); throws a message on error. */
export function parseCidr(text: string): CidrBlock {
  const [addr, len, extra] = text.trim().split('/')
  const family = isIP(addr ?? '')
  if (extra !== undefined || (family !== 4 && family !== 6)) throw new Error(`'${text}' is not an IP address or CIDR block`)
  const width = family === 4 ? 32 : 128
  const prefix = len === undefined ? width : Number(len)
  if (!/^\d+$/.test(len ?? String(width)) || prefix > width) throw new Error(`'${text}': the prefix length must be 0 to ${width}`)
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix)
  return { text, family, prefix, bits: ipBits(addr!, family) & mask }
}

function inside(block: CidrBlock, ip: string, family: 4 | 6): boolean {
  if (family !== block.family) return false
  const width = family === 4 ? 32 : 128
  const shift = BigInt(width - block.prefix)
  return block.prefix === 0 || ipBits(ip, family) >> shift === block.bits >> shift
}

/** Candidate address tokens: runs of hex digits, dots and colons (IPv6 zone ids are dropped). */
const TOKEN = /[0-9A-Fa-f.:]{2,}/g

/** True when some IP address in `text` lies in one of `blocks`. */
export function textHasAddressIn(text: string, blocks: readonly CidrBlock[]): boolean {
  for (const m of text.matchAll(TOKEN)) {
    // `sin_port=80 sin_addr=…`: a token may carry a trailing ':' or '.'; trim it.
    const token = m[0].replace(/[.:]+$/, '').replace(/^[.:](?!:)/, '')
    let family = isIP(token)
    let ip = token
    if (family === 0 && /^\d+\.\d+\.\d+\.\d+:\d+$/.test(token)) {
      ip = token.slice(0, token.lastIndexOf(':')) // 10.0.0.1:443
      family = 4
    }
    if (family !== 4 && family !== 6) continue
    for (const b of blocks) if (inside(b, ip, family)) return true
  }
  return false
}
