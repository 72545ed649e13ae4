/** The reply of a statement that returns no rows: its tag, with the notices and ParameterStatus messages that go before it. */
import { BackendEncoder, type ErrorFields } from '../../common/pgwire/index.js'
import type { Execution } from './statement-runner.js'

export const notice = (f: ErrorFields): Buffer => new BackendEncoder().noticeResponse(f).take()

export const command = (tag: string, notices: Buffer[] = [], parameterStatus: readonly Buffer[] = []): Execution => ({ kind: 'command', tag, notices, parameterStatus })
