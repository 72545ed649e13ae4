/** Commands beyond the edge's own (gateway, demo, decommission). */
import type { Command } from '../command.js'
import { decommissionCommand } from './decommission.js'
import { demoCommand } from './demo.js'
import { gatewayCommand } from './gateway.js'

export const extraCommands: Command[] = [gatewayCommand, demoCommand, decommissionCommand]
