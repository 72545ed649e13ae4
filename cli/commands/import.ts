import { rootLogger } from '../../common/log.js'
import { loadEdgeConfig } from '../../edge-agent/config.js'
import { importFiles } from '../../edge-agent/importer.js'
import { ImportLineError } from '../../edge-agent/ingest/import-file.js'
import type { Command } from '../command.js'

export const importCommand: Command = {
  name: 'import',
  summary: "load 'karmor logs --json' files (or archives) into an edge's store",
  usage: 'fedgres import [--config edge.yaml | --data-dir dir --edge-id id] [--skip-bad] FILE...',
  allowPositionals: true,
  options: {
    config: { type: 'string', short: 'c' },
    'data-dir': { type: 'string' },
    'edge-id': { type: 'string' },
    'skip-bad': { type: 'boolean' },
    quiet: { type: 'boolean', short: 'q' },
  },
  optionHelp: {
    config: "the edge's config file (its data_dir and edge_id are used)",
    'data-dir': "the edge's data dir; the agent on it must be stopped",
    'edge-id': 'edge_id stored with the rows',
    'skip-bad': 'report malformed lines and import the rest (default: stop at the first, import nothing)',
    quiet: 'no progress output',
  },
  async run(v, files) {
    if (files.length === 0) throw new Error('no files to import (give one or more .jsonl or .jsonl.gz files)')
    const overrides: Record<string, unknown> = {}
    if (v['data-dir']) overrides.data_dir = v['data-dir']
    if (v['edge-id']) overrides.edge_id = v['edge-id']
    const cfg = loadEdgeConfig({ file: v.config as string | undefined, overrides: overrides as never })
    const log = rootLogger('edge-agent', 'warn')
    const progress = !v.quiet
    let lastAt = 0
    try {
      const res = await importFiles(
        cfg,
        files,
        {
          skipBad: Boolean(v['skip-bad']),
          onProgress: (p) => {
            const now = Date.now()
            if (!progress || (now - lastAt < 1000 && p.bytes < p.totalBytes)) return
            lastAt = now
            const pct = p.totalBytes > 0 ? Math.min(100, (100 * p.bytes) / p.totalBytes).toFixed(1) : '100.0'
            process.stderr.write(`${p.file}: ${p.lines} lines read (${pct}%)\n`)
          },
          onBadLine: (e) => process.stderr.write(`skipped ${e.message}\n`),
        },
        log,
      )
      process.stdout.write(`imported ${res.rows.alerts} alerts and ${res.rows.logs} logs into ${cfg.data_dir} in ${(res.ms / 1000).toFixed(1)} s${res.bad ? `; ${res.bad} malformed lines skipped` : ''}\n`)
      return 0
    } catch (e) {
      if (e instanceof ImportLineError) {
        process.stderr.write(`fedgres import: ${e.message}\nnothing was imported; fix the line or use --skip-bad\n`)
        return 1
      }
      throw e
    }
  },
}
