/**
 * Errors PostgreSQL reports at Bind rather than at Execute: those of a parameter's value or of
 * planning, which an edge or the gateway's engine raised before its own BindComplete. The
 * gateway reports them at the client's Bind; what fails while running, at Execute (failedRows).
 */
const atBind = new WeakSet<Error>()

export function markAtBind<E extends Error>(e: E): E {
  atBind.add(e)
  return e
}

export const failedAtBind = (e: unknown): boolean => e instanceof Error && atBind.has(e)
