/**
 * A TCP proxy in front of an edge, to fail it on cue: `kill()` resets every connection and
 * refuses new ones (the edge process died), `hang()` stops forwarding in both directions (the
 * edge went silent), `killAfterBytes(n)` cuts a connection once n reply bytes passed (mid-query).
 */
import net from 'node:net'

export class TcpProxy {
  readonly #server: net.Server
  readonly #pairs = new Set<[net.Socket, net.Socket]>()
  #mode: 'pass' | 'hang' | 'dead' = 'pass'
  #cutAfter: number | undefined
  /** Connections that ended because the client side closed them (the gateway dropped the edge). */
  clientClosed = 0
  port = 0

  constructor(
    readonly target: { host: string; port: number },
  ) {
    this.#server = net.createServer((client) => this.#accept(client))
  }

  async start(): Promise<number> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', () => r()))
    this.port = (this.#server.address() as net.AddressInfo).port
    return this.port
  }

  #accept(client: net.Socket): void {
    if (this.#mode === 'dead') {
      client.resetAndDestroy()
      return
    }
    const upstream = net.connect(this.target)
    const pair: [net.Socket, net.Socket] = [client, upstream]
    this.#pairs.add(pair)
    let replied = 0
    client.on('data', (d) => {
      if (this.#mode === 'pass') upstream.write(d)
    })
    upstream.on('data', (d) => {
      if (this.#mode !== 'pass') return
      replied += d.length
      if (this.#cutAfter !== undefined && replied > this.#cutAfter) {
        client.write(d.subarray(0, Math.max(0, d.length - (replied - this.#cutAfter))))
        client.resetAndDestroy()
        upstream.destroy()
        return
      }
      client.write(d)
    })
    const end = () => {
      this.#pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('close', () => {
      if (!upstream.destroyed) this.clientClosed++
      end()
    })
    upstream.on('close', end)
    client.on('error', end)
    upstream.on('error', end)
  }

  kill(): void {
    this.#mode = 'dead'
    for (const [c, u] of this.#pairs) {
      c.resetAndDestroy()
      u.destroy()
    }
  }
  hang(): void {
    this.#mode = 'hang'
  }
  /** Connections made from now on are cut after `bytes` reply bytes. */
  killAfterBytes(bytes: number): void {
    this.#cutAfter = bytes
  }
  restore(): void {
    this.#mode = 'pass'
    this.#cutAfter = undefined
  }

  async close(): Promise<void> {
    this.kill()
    await new Promise<void>((r) => this.#server.close(() => r()))
  }
}
