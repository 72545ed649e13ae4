import { makeScramSecret } from '../../common/scram.js'
import type { Command } from '../command.js'

export const hashPasswordCommand: Command = {
  name: 'hash-password',
  summary: 'print the SCRAM-SHA-256 secret of a password, for gateway and edge user lists',
  usage: 'fedgres hash-password [--password <pw>]   (or the password on standard input)',
  options: { password: { type: 'string' }, iterations: { type: 'string' } },
  optionHelp: { password: 'the password (prefer standard input: it stays out of shell history)', iterations: 'PBKDF2 iterations (default 4096)' },
  async run(values) {
    let pw = values.password as string | undefined
    if (pw === undefined) {
      const chunks: Buffer[] = []
      for await (const c of process.stdin) chunks.push(c as Buffer)
      pw = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
    }
    if (!pw) {
      process.stderr.write('fedgres hash-password: empty password\n')
      return 2
    }
    process.stdout.write(makeScramSecret(pw, Number(values.iterations ?? 4096)) + '\n')
    return 0
  },
}
