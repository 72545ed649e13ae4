/**
 * Receivers for the alert tests: an HTTP endpoint that records what was POSTed, a syslog
 * collector over TCP or TLS that splits octet-counted frames (RFC 6587 §3.4.1) and parses each
 * RFC 5424 message (§6) on its own, independently of syslog-message.ts.
 */
import http from 'node:http'
import net from 'node:net'
import tls from 'node:tls'

export interface ReceivedRequest {
  readonly method: string
  readonly url: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: unknown
}

export interface HttpReceiver {
  readonly port: number
  readonly url: string
  readonly requests: ReceivedRequest[]
  close(): Promise<void>
}

/** `answer` picks the status (and extra headers) for each request; 200 by default. */
export async function startHttpReceiver(
  port = 0,
  answer: (req: ReceivedRequest) => { status: number; headers?: Record<string, string> } = () => ({ status: 200 }),
): Promise<HttpReceiver> {
  const requests: ReceivedRequest[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      const got: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: text ? JSON.parse(text) : undefined }
      const { status, headers } = answer(got)
      if (status >= 200 && status < 300) requests.push(got)
      res.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(status < 300 ? 'ok' : 'no')
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  const bound = (server.address() as net.AddressInfo).port
  return {
    port: bound,
    url: `http://127.0.0.1:${bound}/hook`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export interface ParsedSyslog {
  readonly pri: number
  readonly version: string
  readonly timestamp: string
  readonly hostname: string
  readonly appName: string
  readonly procId: string
  readonly msgId: string
  /** SD-ID → params (unescaped); empty for the NILVALUE. */
  readonly sd: Record<string, Record<string, string>>
  readonly bom: boolean
  readonly msg: string
}

/** RFC 5424 §6: HEADER SP STRUCTURED-DATA [SP MSG], with §6.3.3's escapes undone. */
export function parseRfc5424(buf: Buffer): ParsedSyslog {
  let i = 0
  const token = () => {
    const sp = buf.indexOf(0x20, i)
    const end = sp < 0 ? buf.length : sp
    const t = buf.subarray(i, end).toString('ascii')
    i = end + 1
    return t
  }
  const head = token()
  const m = /^<(\d{1,3})>(\d{1,3})$/.exec(head)
  if (!m) throw new Error(`bad PRI/VERSION: ${head}`)
  const [timestamp, hostname, appName, procId, msgId] = [token(), token(), token(), token(), token()] as const
  const sd: Record<string, Record<string, string>> = {}
  if (buf[i] === 0x2d /* - */) i += 1
  else {
    while (buf[i] === 0x5b /* [ */) {
      i++
      let id = ''
      while (i < buf.length && buf[i] !== 0x20 && buf[i] !== 0x5d) id += String.fromCharCode(buf[i++]!)
      const params: Record<string, string> = {}
      while (buf[i] === 0x20) {
        i++
        let name = ''
        while (i < buf.length && buf[i] !== 0x3d /* = */) name += String.fromCharCode(buf[i++]!)
        if (buf[i + 1] !== 0x22) throw new Error(`PARAM-VALUE of ${name} is not quoted`)
        i += 2
        const bytes: number[] = []
        for (;;) {
          const c = buf[i++]
          if (c === undefined) throw new Error('unterminated PARAM-VALUE')
          if (c === 0x22) break
          if (c === 0x5d) throw new Error(`unescaped ] in PARAM-VALUE of ${name}`)
          if (c === 0x5c && (buf[i] === 0x22 || buf[i] === 0x5c || buf[i] === 0x5d)) bytes.push(buf[i++]!)
          else bytes.push(c)
        }
        params[name] = Buffer.from(bytes).toString('utf8')
      }
      if (buf[i] !== 0x5d) throw new Error(`SD-ELEMENT ${id} not closed`)
      i++
      sd[id] = params
    }
  }
  let rest = buf.subarray(i)
  if (rest.length > 0) {
    if (rest[0] !== 0x20) throw new Error('no SP between STRUCTURED-DATA and MSG')
    rest = rest.subarray(1)
  }
  const bom = rest[0] === 0xef && rest[1] === 0xbb && rest[2] === 0xbf
  return { pri: Number(m[1]), version: m[2]!, timestamp, hostname, appName, procId, msgId, sd, bom, msg: rest.subarray(bom ? 3 : 0).toString('utf8') }
}

/** Splits a TCP stream into octet-counted frames: MSG-LEN SP SYSLOG-MSG. */
export class FrameSplitter {
  #buf = Buffer.alloc(0)
  push(chunk: Buffer): Buffer[] {
    this.#buf = Buffer.concat([this.#buf, chunk])
    const out: Buffer[] = []
    for (;;) {
      const sp = this.#buf.indexOf(0x20)
      if (sp < 0) break
      const lenText = this.#buf.subarray(0, sp).toString('ascii')
      if (!/^[1-9]\d*$/.test(lenText)) throw new Error(`bad MSG-LEN ${JSON.stringify(lenText)}`)
      const len = Number(lenText)
      if (this.#buf.length < sp + 1 + len) break
      out.push(this.#buf.subarray(sp + 1, sp + 1 + len))
      this.#buf = this.#buf.subarray(sp + 1 + len)
    }
    return out
  }
}

export interface SyslogReceiver {
  readonly port: number
  readonly frames: Buffer[]
  /** Connections accepted so far. */
  readonly connections: () => number
  /** Closes the open connections (the server keeps listening). */
  dropConnections(): void
  close(): Promise<void>
}

export async function startSyslogReceiver(opts: { port?: number; tls?: { cert: string; key: string } } = {}): Promise<SyslogReceiver> {
  const frames: Buffer[] = []
  const sockets = new Set<net.Socket>()
  let accepted = 0
  const onSocket = (s: net.Socket) => {
    accepted++
    sockets.add(s)
    const splitter = new FrameSplitter()
    s.on('data', (c: Buffer) => frames.push(...splitter.push(c)))
    s.on('error', () => {})
    s.on('close', () => sockets.delete(s))
  }
  const server = opts.tls ? tls.createServer({ cert: opts.tls.cert, key: opts.tls.key }, onSocket) : net.createServer(onSocket)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', resolve)
  })
  return {
    port: (server.address() as net.AddressInfo).port,
    frames,
    connections: () => accepted,
    dropConnections: () => {
      for (const s of sockets) s.destroy()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
