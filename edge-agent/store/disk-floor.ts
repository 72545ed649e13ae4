/**
 * The free space the store's disk must keep (store.min_free): one new 16 MiB WAL segment (PGlite
 * PANICs and spins at 100% CPU forever when making one fails), a batch's heap and WAL, and a
 * checkpoint's files (a CHECKPOINT that fails for space leaves PGlite answering every later
 * statement wrongly until it is reopened). Below it the store neither opens, commits, imports
 * nor checkpoints.
 */
import { statfsSync } from 'node:fs'

/** MiB with one decimal, rounded down: '63.9 MiB free, 64 needed', never '64 free, 64 needed'. */
const mib = (bytes: number) => (Math.floor((bytes / 2 ** 20) * 10) / 10).toString()

export class DiskFloor {
  constructor(
    readonly dir: string,
    readonly minFreeBytes: number,
  ) {}

  /** Undefined while the disk keeps the floor; else what it lacks, as a sentence ending in `consequence`. */
  shortfall(consequence: string): string | undefined {
    const s = statfsSync(this.dir)
    const free = Number(s.bavail) * Number(s.bsize)
    if (free >= this.minFreeBytes) return undefined
    return `${mib(free)} MiB free on the store's disk (${this.dir}), below store.min_free (${mib(this.minFreeBytes)} MiB): ${consequence}`
  }
}
