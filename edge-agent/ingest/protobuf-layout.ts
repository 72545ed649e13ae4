/**
 * Where the protobuf decoder (protobuf-row.ts) puts each field of a feeder.Alert or feeder.Log:
 * per table, the COPY column a field number fills and how its value is read (the layout, made
 * from the table's columns and the field numbers of kubearmor.proto), and the scratch space,
 * sized to the row, that one event is decoded into before the row is written.
 */
import { alertColumns, logColumns, type ColumnSpec, type EventTable } from '../../schema/index.js'
import { FIELDS } from './protobuf-reader.js'

type Kind = 'text' | 'int' | 'int0' | 'int64' | 'severity' | 'tags' | 'atags' | 'eventdata' | 'owner' | 'exec' | 'time' | 'skip'

export interface Layout {
  readonly kindOf: Kind[]
  readonly colOf: number[]
  readonly ownerCols: readonly number[]
  readonly execCols: readonly number[]
  readonly policyTagsCol: number
  readonly eventDataCol: number
  readonly timeCol: number
  readonly edgeCol: number
  readonly tagsCol: number
  readonly zeroCols: readonly number[]
  readonly typeCol: number
  readonly operationCol: number
  readonly width: number
}

function layout(table: EventTable, cols: readonly ColumnSpec[]): Layout {
  const kindOf: Kind[] = []
  const colOf: number[] = []
  const idx = (name: string) => cols.findIndex((c) => c.name === name)
  for (const [proto, num] of Object.entries(FIELDS[table])) {
    const col = cols.find((c) => c.proto === proto)
    colOf[num] = col ? cols.indexOf(col) : proto === 'Severity' ? idx('severity') : -1
    kindOf[num] =
      proto === 'Owner' ? 'owner' : proto === 'ExecEvent' ? 'exec' : proto === 'EventData' ? 'eventdata' : proto === 'ATags' ? 'atags'
        : proto === 'Tags' ? 'tags' : proto === 'Severity' ? 'severity' : proto === 'UpdatedTime' ? 'time' : !col ? 'skip'
          : col.type === 'bigint' ? 'int64' : col.type === 'integer' ? (proto === 'PPID' || proto === 'UID' ? 'int0' : 'int') : 'text'
  }
  return {
    kindOf,
    colOf,
    ownerCols: [idx('owner_ref'), idx('owner_name'), idx('owner_namespace')],
    execCols: [idx('exec_id'), idx('executable_name')],
    policyTagsCol: idx('policy_tags'),
    eventDataCol: idx('event_data'),
    timeCol: idx('time'),
    edgeCol: idx('edge_id'),
    tagsCol: idx('tags'),
    zeroCols: [idx('ppid'), idx('uid')],
    typeCol: idx('type'),
    operationCol: idx('operation'),
    width: cols.length,
  }
}

export const LAYOUTS: Record<EventTable, Layout> = { alerts: layout('alerts', alertColumns), logs: layout('logs', logColumns) }

/** Per-table scratch space, reused for every event (the encoder is not reentrant). */
export class Scratch {
  readonly kind: Uint8Array
  readonly start: Int32Array
  readonly end: Int32Array
  readonly str: (string | undefined)[]
  /** EventData entries: key start/end, value start/end, flattened. */
  readonly map: number[] = []
  readonly atags: number[] = []
  constructor(width: number) {
    this.kind = new Uint8Array(width)
    this.start = new Int32Array(width)
    this.end = new Int32Array(width)
    this.str = new Array<string | undefined>(width)
  }
}
export const SCRATCH: Record<EventTable, Scratch> = { alerts: new Scratch(LAYOUTS.alerts.width), logs: new Scratch(LAYOUTS.logs.width) }
