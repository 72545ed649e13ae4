/** `fedgres`: one CLI for every role. */
import { ConfigError } from '../common/config.js'
import { helpText, parseCommandArgs, type Command } from './command.js'
import { edgeCommand } from './commands/edge.js'
import { importCommand } from './commands/import.js'
import { sourceCommand } from './commands/source.js'
import { hashPasswordCommand } from './commands/hash-password.js'
import { extraCommands } from './commands/registry.js'

const commands: Command[] = [edgeCommand, sourceCommand, importCommand, hashPasswordCommand, ...extraCommands]

function mainHelp(): string {
  return [
    'fedgres: KubeArmor events kept at the edge, queried as one PostgreSQL database',
    '',
    'Usage: fedgres <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(16)} ${c.summary}`),
    '',
    "Run 'fedgres <command> --help' for a command's options.",
  ].join('\n')
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp() + '\n')
    return name === undefined ? 1 : 0
  }
  const cmd = commands.find((c) => c.name === name)
  if (!cmd) {
    process.stderr.write(`fedgres: unknown command '${name}'\n\n${mainHelp()}\n`)
    return 2
  }
  let parsed
  try {
    parsed = parseCommandArgs(cmd, rest)
  } catch (e) {
    process.stderr.write(`fedgres ${cmd.name}: ${(e as Error).message}\n\n${helpText(cmd)}\n`)
    return 2
  }
  if (parsed.values.help) {
    process.stdout.write(helpText(cmd) + '\n')
    return 0
  }
  try {
    return await cmd.run(parsed.values as Record<string, string | boolean | string[] | undefined>, parsed.positionals)
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`fedgres ${cmd.name}: ${e.message}\n`)
      return 78 // EX_CONFIG
    }
    process.stderr.write(`fedgres ${cmd.name}: ${(e as Error).message}\n`)
    return 1
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0 || process.exitCode === undefined) process.exitCode = code
  },
  (e) => {
    process.stderr.write(`fedgres: ${(e as Error).stack ?? String(e)}\n`)
    process.exitCode = 1
  },
)
