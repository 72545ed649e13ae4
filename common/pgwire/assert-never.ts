/** Makes a `switch` over a union exhaustive: a new member stops compiling until it is handled. */
export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`)
}
