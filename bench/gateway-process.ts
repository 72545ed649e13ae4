/**
 * The benchmark's gateway in a process of its own, as it runs in production (`fedgres gateway`)
 * and as the central PostgreSQL runs in its own: the benchmark's clients do not share its thread.
 * Started by bench/federation.ts with the config as JSON on stdin-less IPC; it answers with its
 * port once every edge's synopsis is loaded, and stops when told to (or when its parent goes).
 */
import { rootLogger } from '../common/log.js'
import { gatewayConfigSchema } from '../gateway/config.js'
import { startGateway } from '../gateway/gateway.js'
import { waitFor } from '../test/helpers/wait.js'

export type GatewayProcessMessage = { port: number } | { error: string }

process.once('message', (raw) => {
  void (async () => {
    try {
      const gw = await startGateway(gatewayConfigSchema.parse(raw), rootLogger('gateway', 'warn'))
      await waitFor('synopses', () => gw.discovery!.current().edges.every((e) => e.synopsis !== null), 60_000)
      process.send!({ port: gw.port } satisfies GatewayProcessMessage)
      process.once('message', () => void gw.close().then(() => process.exit(0)))
    } catch (e) {
      process.send!({ error: String((e as Error).stack ?? e) } satisfies GatewayProcessMessage)
      process.exit(1)
    }
  })()
})
process.once('disconnect', () => process.exit(0))
