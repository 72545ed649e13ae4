/**
 * Values a session reads from its shadow session and keeps until its settings change: the
 * output settings its edges run under, the values of the identity functions, statement_timeout.
 */
import { FrameError } from './frame-error.js'
import type { ShadowRunner } from './shadow-exchange.js'
import { rowTexts } from './shadow-exchange.js'
import type { ShadowOwner } from '../catalog/shadow.js'

/** A value read for the session's settings as they are, read again once a SET changed them. */
export class SettingsRead<T> {
  #kept: { version: number; value: Promise<T> } | undefined

  constructor(
    readonly version: () => number,
    readonly read: () => Promise<T>,
  ) {}

  get(): Promise<T> {
    const version = this.version()
    if (this.#kept?.version === version) return this.#kept.value
    const value = this.read()
    this.#kept = { version, value }
    value.catch(() => {
      if (this.#kept?.value === value) this.#kept = undefined
    })
    return value
  }
}

/** The one row of a statement on the shadow, as texts. */
export async function shadowRow(runner: ShadowRunner, owner: ShadowOwner, sql: string): Promise<(string | null)[]> {
  const out = await runner.simple(owner, sql)
  if (out.error || !out.result?.rows[0]) throw new FrameError(out.error ?? Buffer.alloc(0))
  return rowTexts(out.result.rows[0])
}
