/**
 * Keeps a second agent off a data dir. PGlite has no lock of its own, and two processes writing
 * one PostgreSQL data directory corrupt it. The lock records the owner's pid; a lock whose
 * process is gone (the agent was killed) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'

export class DataDirLockedError extends Error {
  constructor(readonly dir: string, readonly pid: number) {
    super(`data dir ${dir} is in use by another Fedgres edge agent (pid ${pid}); stop it first, or give this agent its own data_dir`)
    this.name = 'DataDirLockedError'
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function acquireLock(dir: string): () => void {
  const path = join(dir, 'fedgres-edge.lock')
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx')
      writeSync(fd, `${process.pid}\n`)
      closeSync(fd)
      return () => {
        try {
          if (Number(readFileSync(path, 'utf8').trim()) === process.pid) unlinkSync(path)
        } catch {
          // already gone
        }
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      let owner = NaN
      try {
        owner = Number(readFileSync(path, 'utf8').trim())
      } catch {
        continue // removed meanwhile; try again
      }
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) throw new DataDirLockedError(dir, owner)
      try {
        unlinkSync(path) // stale: its agent is gone
      } catch {
        // another agent took it over first; the next attempt sees its lock
      }
    }
  }
  throw new Error(`could not lock data dir ${dir}`)
}
