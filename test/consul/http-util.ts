/**
 * HTTP plumbing shared by the endpoints of the project's Consul test server: error type, query
 * parameter parsing with Consul's rules, body reading and response writing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parseGoDuration } from './duration.js'

/** Consul answers errors as a plain-text body with a 4xx/5xx status. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
  }
}

export const badRequest = (msg: string) => new HttpError(400, msg)

/** A JSON object as decoded from a request body. */
export type JsonObject = Record<string, unknown>

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A response before it is written: JSON value, raw bytes or text. */
export interface Reply {
  status?: number
  json?: unknown
  raw?: Buffer
  text?: string
  /** Present on reads of indexed resources: becomes `X-Consul-Index`. */
  index?: number
  headers?: Record<string, string>
  /** A list whose empty form is a 404 (KV `?recurse` and `?keys`): so is one emptied by ACL filtering. */
  notFoundWhenEmpty?: boolean
}

/** Boolean parameters parsed like Go's `strconv.ParseBool` (`?passing`, `?enable`); a bare flag is true. */
export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name)
  if (v === null) return false
  if (v === '' || ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false
  throw badRequest(`Invalid value for ?${name}: ${JSON.stringify(v)}`)
}

/** `?index=`: a uint64; absent means "do not block". */
export function indexParam(q: URLSearchParams): number {
  const v = q.get('index')
  if (v === null || v === '') return 0
  if (!/^\d+$/.test(v)) throw badRequest('Invalid index')
  return Number(v)
}

/** `?wait=` in ms, or undefined when absent. */
export function waitParam(q: URLSearchParams): number | undefined {
  const v = q.get('wait')
  if (v === null || v === '') return undefined
  const ms = parseGoDuration(v)
  if (ms === undefined || ms < 0) throw badRequest('Invalid wait time')
  return ms
}

/** Reads the body, failing with `tooLarge` past `limit` bytes (without buffering the excess). */
export function readBody(req: IncomingMessage, limit: number, tooLarge: () => HttpError): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    // Past the limit, keep draining rather than destroying the request: the client should
    // still get the 413 on its connection.
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
    })
    req.on('end', () => (size > limit ? reject(tooLarge()) : resolve(Buffer.concat(chunks, size))))
    req.on('error', reject)
    req.on('close', () => req.complete || reject(new HttpError(400, 'client closed the request')))
  })
}

/** Parses a JSON body; an empty body is `undefined`, malformed JSON a 400 like Consul's decoder error. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return undefined
  try {
    return JSON.parse(body.toString('utf8')) as unknown
  } catch (err) {
    throw badRequest(`Request decode failed: ${(err as Error).message}`)
  }
}

/** Go's encoding/json sorts map keys; the test server does the same so bodies compare byte-for-byte. */
export function sortedRecord<T>(rec: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {}
  for (const k of Object.keys(rec).sort()) out[k] = rec[k]!
  return out
}

export function writeReply(res: ServerResponse, reply: Reply, headerIndex: (i: number) => number): void {
  if (res.writableEnded || res.destroyed) return
  const headers: Record<string, string> = { ...reply.headers }
  if (reply.index !== undefined) {
    headers['X-Consul-Index'] = String(headerIndex(reply.index))
    headers['X-Consul-KnownLeader'] ??= 'true'
    headers['X-Consul-LastContact'] = '0'
  }
  let body: Buffer
  if (reply.raw !== undefined) {
    body = reply.raw
  } else if (reply.text !== undefined) {
    headers['Content-Type'] = 'text/plain; charset=utf-8'
    body = Buffer.from(reply.text)
  } else if (reply.json !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = Buffer.from(JSON.stringify(reply.json))
  } else {
    body = Buffer.alloc(0)
  }
  headers['Content-Length'] = String(body.length)
  res.writeHead(reply.status ?? 200, headers)
  res.end(body)
}
