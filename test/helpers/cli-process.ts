/** Runs `fedgres` subcommands as child processes, as an operator would, reading their JSON log lines. */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from '../../common/paths.js'
import { scrape, type Labels } from './prometheus-scrape.js'

export const fedgresBin = () => join(repoRoot(), 'bin', 'fedgres.js')

export interface CliProcess {
  readonly proc: ChildProcess
  readonly logs: Record<string, unknown>[]
  stderrText(): string
  stdoutText(): string
  /** Resolves with the first log line whose message is `message`. */
  waitForLog(message: string, timeoutMs?: number): Promise<Record<string, unknown>>
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>
  kill(signal?: NodeJS.Signals): void
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const proc = spawn(process.execPath, [fedgresBin(), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const logs: Record<string, unknown>[] = []
  let stderr = ''
  let stdout = ''
  let partial = ''
  const waiters: { message: string; resolve: (l: Record<string, unknown>) => void }[] = []
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  proc.stderr!.on('data', (d: Buffer) => {
    const text = d.toString()
    stderr += text
    partial += text
    const lines = partial.split('\n')
    partial = lines.pop()!
    for (const line of lines) {
      if (!line.startsWith('{')) continue
      try {
        const entry = JSON.parse(line) as Record<string, unknown>
        logs.push(entry)
        for (const w of waiters.filter((x) => x.message === entry.message)) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(entry)
        }
      } catch {
        // not a log line
      }
    }
  })
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  return {
    proc,
    logs,
    stderrText: () => stderr,
    stdoutText: () => stdout,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
    },
    waitForLog(message, timeoutMs = 60_000) {
      const seen = logs.find((l) => l.message === message)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no '${message}' log line within ${timeoutMs} ms; stderr:\n${stderr.slice(-3000)}`)), timeoutMs)
        const w = {
          message,
          resolve: (l: Record<string, unknown>) => {
            clearTimeout(timer)
            resolve(l)
          },
        }
        waiters.push(w)
        void exited.then((code) => {
          if (waiters.includes(w)) {
            clearTimeout(timer)
            reject(new Error(`process exited (${code}) before logging '${message}'; stderr:\n${stderr.slice(-3000)}`))
          }
        })
      })
    },
  }
}

/** Runs a command to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = startCli(args, env)
  const code = await p.exited
  return { code, stdout: p.stdoutText(), stderr: p.stderrText() }
}

/** A counter's value from a /metrics page, summed over its series whose labels include `labels`. */
export async function scrapeCounter(port: number, name: string, labels: Labels = {}): Promise<number> {
  return (await scrape(port)).sum(name, 'counter', labels)
}
