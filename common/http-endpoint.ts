/** A small HTTP server for /metrics (Prometheus text format) and health probes. */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'

export interface HttpEndpointOptions {
  readonly host: string
  readonly port: number
  readonly registry: Registry
  /** Liveness: the process is serving. */
  readonly live?: () => boolean
  /** Readiness: the component can do its work (e.g. store open, catalog loaded). */
  readonly ready?: () => boolean
}

export async function startHttpEndpoint(opts: HttpEndpointOptions): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': opts.registry.contentType })
          res.end(text)
        },
        (e: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' })
          res.end(e.message)
        },
      )
      return
    }
    if (path === '/healthz' || path === '/readyz') {
      const ok = path === '/healthz' ? (opts.live?.() ?? true) : (opts.ready?.() ?? true)
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' })
      res.end(ok ? 'ok\n' : 'not ready\n')
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => resolve())
  })
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
