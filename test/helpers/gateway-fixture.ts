/** A gateway started in-process on a free port, with a user, TLS, and optionally an executor. */
import { rootLogger } from '../../common/log.js'
import { makeScramSecret } from '../../common/scram.js'
import { gatewayConfigSchema, type GatewayConfig } from '../../gateway/config.js'
import { startGateway, type GatewayParts, type RunningGateway } from '../../gateway/gateway.js'
import { makeTestPki } from './certs.js'
import { tempDir } from './temp-dir.js'

export interface GatewayFixture {
  readonly gateway: RunningGateway
  readonly config: GatewayConfig
  readonly user: string
  readonly password: string
  readonly database: string
  readonly port: number
  stop(): Promise<void>
}

/** node-postgres connection settings for a test gateway. */
export const clientConfig = (gw: GatewayFixture) => ({ host: '127.0.0.1', port: gw.port, user: gw.user, password: gw.password, database: gw.database })

export async function startTestGateway(extra: Record<string, unknown> = {}, parts: GatewayParts = {}): Promise<GatewayFixture> {
  const dir = tempDir('fedgres-gw-')
  const pki = makeTestPki(dir.path, 'localhost')
  const password = 'analyst-secret'
  const config = gatewayConfigSchema.parse({
    listen: { host: '127.0.0.1', port: 0 },
    users: [{ name: 'analyst', scram: makeScramSecret(password) }],
    tls: { cert: pki.serverCert, key: pki.serverKey },
    log_level: 'warn',
    ...extra,
  })
  const gateway = await startGateway(config, rootLogger('gateway', process.env.LOG_LEVEL ?? 'warn'), parts)
  return {
    gateway,
    config,
    user: 'analyst',
    password,
    database: config.database,
    port: gateway.port,
    async stop() {
      await gateway.close()
      dir.dispose()
    },
  }
}
