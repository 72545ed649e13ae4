/** Commands added by later roles (gateway, demo) register here to keep main.ts stable. */
import type { Command } from '../command.js'

export const extraCommands: Command[] = []
