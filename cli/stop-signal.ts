/**
 * Stopping a long-running command: the first SIGINT or SIGTERM asks for a clean stop; a second
 * one, while the stop is still under way, exits at once (as a second Ctrl-C does in most servers).
 */

export interface StopSignal {
  /** Resolves with the signal's name on the first SIGINT or SIGTERM. */
  readonly received: Promise<NodeJS.Signals>
  /** The signal, once one arrived (to check between start-up steps). */
  readonly signal: NodeJS.Signals | undefined
  /** Removes the handlers (after the clean stop is done). */
  dispose(): void
}

/** Installs the handlers now, so a signal during start-up is not lost. */
export function listenForStop(onForced: (signal: NodeJS.Signals) => void): StopSignal {
  let got: NodeJS.Signals | undefined
  let resolve!: (s: NodeJS.Signals) => void
  const received = new Promise<NodeJS.Signals>((r) => (resolve = r))
  const handler = (signal: NodeJS.Signals) => {
    if (got !== undefined) {
      onForced(signal)
      process.exit(130)
    }
    got = signal
    resolve(signal)
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    received,
    get signal() {
      return got
    },
    dispose() {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    },
  }
}
