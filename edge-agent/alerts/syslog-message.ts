/**
 * An alert as an RFC 5424 syslog message, octet-counted for TCP (RFC 6587 §3.4.1) and TLS
 * (RFC 5425 §4.3):
 *
 *   254 <107>1 2025-12-16T05:37:19.127Z node-7 fedgres-edge 4242 shell-in-pod
 *       [fedgres@32473 id="0b6f3c52-2b43-4a8e-8f0e-3f7c1f1b9d10" rule="shell-in-pod" edge="edge-1"
 *       kind="event" severity="high"] BOMProcess /bin/bash (Block) in prod/web-1 {"pod_name":"web-1"}
 *
 * (one line, wrapped here). 254 is the octet count of what follows its space, the BOM's 3
 * octets included; PRI 107 = facility 13 (log audit) × 8 + severity 3 (error, which "high" maps to).
 * @see https://www.rfc-editor.org/rfc/rfc5424#section-6
 * @see https://www.rfc-editor.org/rfc/rfc6587#section-3.4.1
 */
import { alertJsonReplacer, type FiredAlert } from './alert.js'
import { utf8Prefix } from '../../common/utf8.js'

/** RFC 5424 §6 ABNF: NILVALUE = "-". */
const NIL = '-'
/** §6.4: MSG-UTF8 = BOM UTF-8-STRING, BOM = %xEF.BB.BF. */
const BOM = Buffer.from([0xef, 0xbb, 0xbf])
/**
 * §6.1 leaves the limit to the transport; receivers SHOULD take 2048 octets, and rsyslog's
 * default is 8 KiB. Past this the MSG (the event's columns) is cut, never the header or SD.
 */
export const MAX_MESSAGE_OCTETS = 8192

/** Table 2 of §6.2.1. */
export const SyslogSeverity = { emergency: 0, alert: 1, critical: 2, error: 3, warning: 4, notice: 5, informational: 6, debug: 7 } as const

const SEVERITY_WORDS: Record<string, number> = {
  emerg: 0, emergency: 0, panic: 0,
  alert: 1,
  crit: 2, critical: 2,
  err: 3, error: 3, high: 3,
  warn: 4, warning: 4, medium: 4,
  notice: 5, low: 5,
  info: 6, informational: 6,
  debug: 7,
}

/**
 * A rule's free-text severity as a syslog severity. Syslog keywords and high/medium/low map by
 * name; KubeArmor's numeric policy severities 1–10 (10 the worst) map 9–10 → critical,
 * 7–8 → error, 5–6 → warning, 3–4 → notice, 1–2 → informational. Anything else, and no
 * severity at all, is warning: a fired alert is worth a look.
 */
export function syslogSeverity(severity: string | undefined): number {
  if (severity === undefined) return SyslogSeverity.warning
  const s = severity.trim().toLowerCase()
  const word = SEVERITY_WORDS[s]
  if (word !== undefined) return word
  if (/^\d+$/.test(s)) {
    const n = Number(s)
    if (n >= 9) return SyslogSeverity.critical
    if (n >= 7) return SyslogSeverity.error
    if (n >= 5) return SyslogSeverity.warning
    if (n >= 3) return SyslogSeverity.notice
    if (n >= 1) return SyslogSeverity.informational
  }
  return SyslogSeverity.warning
}

/**
 * A HEADER field: §6.2 allows only PRINTUSASCII (%d33-126) there, with a length limit per field
 * (HOSTNAME 255, APP-NAME 48, PROCID 128, MSGID 32). Other characters become `_`; an empty
 * value is the NILVALUE.
 */
export function headerField(value: string | undefined, max: number): string {
  if (!value) return NIL
  return value.replace(/[^\x21-\x7e]/g, '_').slice(0, max)
}

/** §6.3.3: inside PARAM-VALUE, '"', '\' and ']' MUST be escaped as '\"', '\\' and '\]'. */
export const escapeParamValue = (value: string): string => value.replace(/["\\\]]/g, (c) => `\\${c}`)

export interface SyslogMessage {
  /** 0–23 (§6.2.1 Table 1). */
  readonly facility: number
  /** 0–7 (§6.2.1 Table 2). */
  readonly severity: number
  /** §6.2.3: RFC 3339 with upper-case T and Z, at most 6 fractional digits; Date.toISOString() fits. */
  readonly timestamp: string
  readonly hostname: string
  readonly appName: string
  readonly procId: string
  readonly msgId: string
  /** One SD-ELEMENT: its SD-ID (`name@PEN`, §6.3.2) and SD-PARAMs in order; no params means NILVALUE. */
  readonly sdId: string
  readonly params: readonly (readonly [name: string, value: string])[]
  readonly msg: string
  readonly bom: boolean
}

/** SYSLOG-MSG = HEADER SP STRUCTURED-DATA [SP MSG] (§6), as UTF-8 octets. */
export function formatSyslogMessage(m: SyslogMessage): Buffer {
  const pri = m.facility * 8 + m.severity // §6.2.1: PRIVAL = facility × 8 + severity, no leading zeros
  // §6: HEADER = PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID; VERSION is 1 (§6.2.2).
  const header = `<${pri}>1 ${m.timestamp || NIL} ${headerField(m.hostname, 255)} ${headerField(m.appName, 48)} ${headerField(m.procId, 128)} ${headerField(m.msgId, 32)}`
  // §6.3.1: SD-ELEMENT = "[" SD-ID *(SP SD-PARAM) "]"; SD-PARAM = PARAM-NAME "=" %d34 PARAM-VALUE %d34.
  const sd = m.params.length === 0 ? NIL : `[${m.sdId}${m.params.map(([k, v]) => ` ${k}="${escapeParamValue(v)}"`).join('')}]`
  const head = Buffer.from(`${header} ${sd}`, 'utf8')
  if (!m.msg) return head
  const room = MAX_MESSAGE_OCTETS - head.length - 1 - (m.bom ? BOM.length : 0)
  // Cut at a character boundary: §6.4 wants shortest-form UTF-8, so no half characters.
  const msg = utf8Prefix(Buffer.from(m.msg, 'utf8'), Math.max(0, room))
  return Buffer.concat([head, Buffer.from(' '), ...(m.bom ? [BOM] : []), msg])
}

/** RFC 6587 §3.4.1: SYSLOG-FRAME = MSG-LEN SP SYSLOG-MSG, MSG-LEN the octet count of SYSLOG-MSG. */
export const octetCountedFrame = (msg: Buffer): Buffer => Buffer.concat([Buffer.from(`${msg.length} `, 'ascii'), msg])

export interface SyslogSenderIdentity {
  readonly facility: number
  readonly hostname: string
  readonly appName: string
  readonly procId: string
  readonly sdId: string
  readonly bom: boolean
}

/**
 * TIMESTAMP is when the alert fired, MSGID its rule (messages with one MSGID share semantics,
 * §6.2.7), the SD element says which alert it is, and MSG is the summary followed by the details
 * as JSON (cut to fit MAX_MESSAGE_OCTETS).
 */
export function alertToSyslog(alert: FiredAlert, who: SyslogSenderIdentity): Buffer {
  const params: [string, string][] = [
    ['id', alert.id],
    ['rule', alert.rule],
    ['edge', alert.edgeId],
    ['kind', alert.kind],
  ]
  if (alert.severity !== undefined) params.push(['severity', alert.severity])
  return formatSyslogMessage({
    facility: who.facility,
    severity: syslogSeverity(alert.severity),
    timestamp: alert.firedAt,
    hostname: who.hostname,
    appName: who.appName,
    procId: who.procId,
    msgId: alert.rule,
    sdId: who.sdId,
    params,
    // §6.4: octets below 32 SHOULD be avoided in MSG; JSON already escapes them in the details.
    msg: `${alert.summary.replace(/[\x00-\x1f\x7f]/g, ' ')} ${JSON.stringify(alert.details, alertJsonReplacer)}`,
    bom: who.bom,
  })
}
