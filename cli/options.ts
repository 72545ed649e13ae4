/** Checked numeric option values, so a typo fails with the option's name instead of NaN later. */

export function intOption(name: string, raw: string | boolean | string[] | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt
  const n = Number(raw)
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}, got '${String(raw)}'`)
  return n
}

export const portOption = (name: string, raw: string | boolean | string[] | undefined, dflt = 0) => intOption(name, raw, dflt, 0, 65535)
