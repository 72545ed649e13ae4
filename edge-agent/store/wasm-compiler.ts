/**
 * How V8 compiles PGlite's WebAssembly in the long-running edge agent.
 *
 * By default V8 compiles each function at once with its baseline compiler (Liftoff) and later the
 * hot ones again with its optimizing compiler (TurboFan), keeping both. For PostgreSQL's 9 MB
 * module the baseline code is some 30–40 MB resident that a long-running agent has no use for.
 * With Liftoff off, every function is compiled once, by TurboFan. Opening the store takes 1 to
 * 1.5 s longer, once per start (PGlite alone: 1.2 s instead of 0.2 s). A 200,000-row insert and a
 * grouped query run at the same speed, and the agent's peak RSS under `bench:ingest` fell by about
 * 35 MB (345 to 309 MB).
 *
 * V8 flags are process-wide, so this belongs to the agent's own process (`fedgres edge`), before
 * its store compiles the module; other users of the library keep V8's default.
 */
import { setFlagsFromString } from 'node:v8'

export function compileWasmWithOptimizerOnly(): void {
  setFlagsFromString('--no-liftoff')
}
