import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | undefined

/** The repository (or installed package) root: the nearest folder above this file with a package.json. */
export function repoRoot(): string {
  if (cached) return cached
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('cannot find the Fedgres package root')
    dir = up
  }
  return (cached = dir)
}

/** A file shipped in the source tree (a .proto, a .java probe), located from the package root. */
export const sourceFile = (...parts: string[]) => join(repoRoot(), ...parts)
