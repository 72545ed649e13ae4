/**
 * End-to-end client harness: every real client Fedgres promises to support, driven against any
 * PostgreSQL-wire server given by connection parameters. Each `check*` function asserts what
 * the client saw (throwing an AssertionError that names the client, the check and the output)
 * and returns a structured report for diagnostics. Nothing here knows about the gateway's
 * internals: the same calls prove the harness against native PostgreSQL 18 and then the gateway.
 */

/** Where to connect. `tls` picks the transport of every client: sslmode=require vs disable. */
export interface ServerUnderTest {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  readonly database: string
  readonly tls: boolean
}

export { checkPsql, checkPsqlListDatabasesFails, runProcess, type PsqlReport, type ProcessResult } from './psql-client.js'
export { checkJdbc, compileJdbcProbe, type JdbcReport } from './jdbc-client.js'
export { checkOdbc, type OdbcReport } from './odbc-client.js'
export { checkPython, type PythonReport } from './python-client.js'
export { checkNodePg, checkKysely, checkBinaryWire, decodeBinary, pgMicros, type NodePgReport } from './node-clients.js'
export {
  checkGarbageStartup,
  checkTruncatedMessage,
  checkUnknownMessageType,
  checkOversizedMessage,
  type BadInputReport,
  type BadInputOutcome,
} from './bad-input.js'
export { RawSession, frontendMessage, startupMessage, parseError, type BackendMessage, type ErrorFields, type CloseKind } from './raw-session.js'
