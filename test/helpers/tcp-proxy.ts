/**
 * A TCP proxy in front of an edge, to fail it on cue: `kill()` resets every connection and
 * refuses new ones (the edge process died), `hang()` stops forwarding in both directions (the
 * edge went silent), `killAfterBytes(n)` cuts a connection once n reply bytes passed (mid-query),
 * `throttle(rate)` lets replies through at `rate` bytes a second, a slice every 100 ms (an edge
 * that answers slowly but never goes silent), `freezeOpen()` silences the connections open now
 * and only those (a NAT or firewall that dropped them without a reset; new ones pass).
 */
import net from 'node:net'

export class TcpProxy {
  readonly #server: net.Server
  readonly #pairs = new Set<[net.Socket, net.Socket]>()
  #mode: 'pass' | 'hang' | 'dead' = 'pass'
  #cutAfter: number | undefined
  #rate: number | undefined
  #ticker: NodeJS.Timeout | undefined
  readonly #backlog = new Map<net.Socket, Buffer[]>()
  readonly #frozen = new WeakSet<net.Socket>()
  /** Reply bytes passed to clients, over all connections. */
  replyBytes = 0
  /** Connections that ended because the client side closed them (the gateway dropped the edge). */
  clientClosed = 0
  /** The most connections open through the proxy at once. */
  peakOpen = 0
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
    this.peakOpen = Math.max(this.peakOpen, this.#pairs.size)
    let replied = 0
    client.on('data', (d) => {
      if (this.#mode === 'pass' && !this.#frozen.has(client)) upstream.write(d)
    })
    upstream.on('data', (d) => {
      if (this.#mode !== 'pass' || this.#frozen.has(client)) return
      replied += d.length
      if (this.#cutAfter !== undefined && replied > this.#cutAfter) {
        client.write(d.subarray(0, Math.max(0, d.length - (replied - this.#cutAfter))))
        client.resetAndDestroy()
        upstream.destroy()
        return
      }
      if (this.#rate !== undefined) {
        const q = this.#backlog.get(client) ?? []
        q.push(d)
        this.#backlog.set(client, q)
        return
      }
      this.replyBytes += d.length
      client.write(d)
    })
    const end = () => {
      this.#pairs.delete(pair)
      this.#backlog.delete(client)
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
  /** The connections open now forward nothing more, ever; new ones pass. */
  freezeOpen(): void {
    for (const [c] of this.#pairs) this.#frozen.add(c)
  }
  /** Connections made from now on are cut after `bytes` reply bytes. */
  killAfterBytes(bytes: number): void {
    this.#cutAfter = bytes
  }
  /** Replies pass at `bytesPerSecond`, in a slice every 100 ms. */
  throttle(bytesPerSecond: number): void {
    this.#rate = bytesPerSecond
    this.#ticker ??= setInterval(() => this.#drip(Math.max(1, Math.round(bytesPerSecond / 10))), 100)
  }

  #drip(budget: number): void {
    for (const [client, q] of this.#backlog) {
      let left = budget
      while (left > 0 && q.length > 0) {
        const d = q[0]!
        const part = d.subarray(0, left)
        if (part.length === d.length) q.shift()
        else q[0] = d.subarray(left)
        left -= part.length
        this.replyBytes += part.length
        client.write(part)
      }
    }
  }

  restore(): void {
    this.#mode = 'pass'
    this.#cutAfter = undefined
    this.#rate = undefined
    clearInterval(this.#ticker)
    this.#ticker = undefined
    for (const [client, q] of this.#backlog) for (const d of q.splice(0)) client.write(d)
  }

  async close(): Promise<void> {
    clearInterval(this.#ticker)
    this.kill()
    await new Promise<void>((r) => this.#server.close(() => r()))
  }
}
