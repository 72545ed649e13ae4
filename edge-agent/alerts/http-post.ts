/** One JSON POST with Node's global fetch (undici), its outcome classed for the retry loop. */
import { DeliveryError } from './sink.js'

export interface PostOptions {
  readonly headers?: Readonly<Record<string, string>>
  readonly timeoutMs: number
}

/** Statuses worth retrying as they are: the receiver may take the same request later. */
const TRANSIENT_STATUS = new Set([408, 425, 429])

/** Resolves on 2xx; otherwise rejects with a DeliveryError (see FailureClass). */
export async function postJson(url: string, body: string, opts: PostOptions): Promise<void> {
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { ...opts.headers, 'content-type': 'application/json' },
      body,
      // A webhook URL that redirects is misconfigured; following a 301/302 would turn the POST into a GET.
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs),
    })
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } }
    const why = err.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : (err.cause?.code ?? err.cause?.message ?? err.message)
    throw new DeliveryError(`POST ${redactedUrl(url)} failed: ${why}`, 'transient', undefined, { cause: e })
  }
  if (res.status >= 200 && res.status < 300) {
    await res.body?.cancel().catch(() => {})
    return
  }
  const text = await res.text().catch(() => '')
  const transient = res.status >= 500 || TRANSIENT_STATUS.has(res.status)
  const location = res.status >= 300 && res.status < 400 ? ` (redirects to ${res.headers.get('location') ?? '?'}; configure that URL)` : ''
  throw new DeliveryError(
    `POST ${redactedUrl(url)} answered ${res.status}${location}${text ? `: ${text.slice(0, 200)}` : ''}`,
    transient ? 'transient' : 'rejected',
    retryAfterMs(res.headers.get('retry-after')),
  )
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** Slack's and most webhook URLs carry their secret in the path; logs get the origin only. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url)
    return u.pathname === '/' && !u.search ? u.origin : `${u.origin}/…`
  } catch {
    return '(invalid URL)'
  }
}
