/** Messages between the gateway's main thread and its shadow-catalog worker. */

export interface ShadowInit {
  readonly op: 'init'
  /** The image tarball (gzip), from shadow-image.ts. */
  readonly image: Uint8Array
  /** Gateway users: each becomes a login role in the shadow, member of the reader role. */
  readonly users: readonly string[]
  /** Settings the shadow starts with (`-c name=value`): their defaults for SHOW, current_setting() and RESET. */
  readonly settings?: readonly (readonly [string, string])[]
  /** A reply growing past this many bytes is dropped, and reported at once with an `overflow` message. */
  readonly maxResultBytes: number
}

/** Who a statement runs for: the shadow replays `setup` when the owner changes. */
export interface ShadowOwner {
  readonly key: string
  /** Statements that put a fresh session in this client's state (role, then its SETs). */
  readonly setup: string
}

export type ToShadow =
  | (ShadowInit & { readonly id: number })
  | {
      readonly op: 'run'
      readonly id: number
      readonly owner: ShadowOwner
      readonly bytes: Uint8Array
      /** Put the owner's state in place even if it ran the last exchange (that one was abandoned). */
      readonly fresh?: boolean
    }

export type FromShadow =
  | { readonly id: number; readonly ok: true; readonly bytes?: Uint8Array; readonly parameters?: readonly [string, string][] }
  | { readonly id: number; readonly ok: false; readonly error: string }
  /** Sent while the exchange still runs: its reply passed the limit (the main thread ends the worker). */
  | { readonly id: number; readonly overflow: true }
