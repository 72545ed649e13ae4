/** Reading the deployment material under deploy/ for the tests in this folder. */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import YAML from 'yaml'
import { repoRoot } from '../../common/paths.js'

export const deployDir = (...parts: string[]) => join(repoRoot(), 'deploy', ...parts)

/** Files under `dir` (recursively) whose names end with one of `exts`, sorted. */
export function filesUnder(dir: string, exts: readonly string[]): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (exts.some((e) => name.endsWith(e))) out.push(p)
    }
  }
  walk(dir)
  return out.sort()
}

export interface LoadedObject {
  /** Path relative to the repository root, with the document's index for multi-document YAML. */
  readonly origin: string
  readonly file: string
  readonly object: Record<string, unknown>
}

/** Every document of a YAML (multi-document) or JSON file; a parse error or warning throws. */
export function readDocuments(file: string): LoadedObject[] {
  const text = readFileSync(file, 'utf8')
  const rel = relative(repoRoot(), file)
  if (file.endsWith('.json')) return [{ origin: rel, file, object: JSON.parse(text) as Record<string, unknown> }]
  const docs = YAML.parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true })
  const out: LoadedObject[] = []
  docs.forEach((doc, i) => {
    const problems = [...doc.errors, ...doc.warnings]
    if (problems.length > 0) throw new Error(`${rel} document ${i}: ${problems.map((p) => p.message).join('; ')}`)
    const value = doc.toJS() as unknown
    if (value === null || value === undefined) return // an empty document, e.g. after a trailing ---
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${rel} document ${i} is not a mapping`)
    out.push({ origin: `${rel}#${i}`, file, object: value as Record<string, unknown> })
  })
  return out
}

/** The version in package.json, which the deployment material names for the image and service. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version
}
