/** The shape of a `fedgres` subcommand and its help text. */
import { parseArgs, type ParseArgsConfig } from 'node:util'

export interface Command {
  readonly name: string
  readonly summary: string
  readonly usage: string
  readonly options: NonNullable<ParseArgsConfig['options']>
  /** One line per option, in the order shown by --help. */
  readonly optionHelp: Readonly<Record<string, string>>
  readonly allowPositionals?: boolean
  run(values: Record<string, string | boolean | string[] | undefined>, positionals: string[]): Promise<number>
}

export function helpText(cmd: Command): string {
  const lines = [`fedgres ${cmd.name}: ${cmd.summary}`, '', `Usage: ${cmd.usage}`, '', 'Options:']
  for (const [name, help] of Object.entries(cmd.optionHelp)) {
    const opt = cmd.options[name]
    const flag = `--${name}${opt?.type === 'string' ? ' <value>' : ''}`
    lines.push(`  ${flag.padEnd(26)} ${help}`)
  }
  lines.push(`  ${'--help'.padEnd(26)} show this help`)
  return lines.join('\n')
}

export function parseCommandArgs(cmd: Command, argv: string[]) {
  return parseArgs({
    args: argv,
    options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
    allowPositionals: cmd.allowPositionals ?? false,
    strict: true,
  })
}
