/** Bytes in the files under a directory (the data dir's store, spool and outbox), for metrics. */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

export async function dirBytes(dir: string): Promise<number> {
  let total = 0
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue
    try {
      total += (await stat(join(e.parentPath, e.name))).size
    } catch {
      // removed meanwhile (a spool segment, a dropped partition's file)
    }
  }
  return total
}
