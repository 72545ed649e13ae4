/** Commands beyond the edge's own (gateway, demo). */
import type { Command } from '../command.js'
import { demoCommand } from './demo.js'
import { gatewayCommand } from './gateway.js'

export const extraCommands: Command[] = [gatewayCommand, demoCommand]
