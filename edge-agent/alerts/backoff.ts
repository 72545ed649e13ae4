/**
 * Retry delays: exponential with "equal jitter". The n-th consecutive failure waits between half
 * and all of min(cap, base·2^(n-1)), so delays still grow (unlike full jitter, which may retry at
 * once) while edges that lost the same receiver in the same outage spread their retries out.
 * base 1 s, cap 5 min: 0.5–1 s, 1–2 s, 2–4 s, … 150–300 s from the 10th failure on.
 */
export interface BackoffPolicy {
  readonly baseMs: number
  readonly capMs: number
}

export function backoffDelay(policy: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 40))
  return exp / 2 + random() * (exp / 2)
}
