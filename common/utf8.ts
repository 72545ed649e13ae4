/** UTF-8 text cut to a number of bytes without splitting a character. */

/** The longest prefix of `buf` (UTF-8) of at most `max` bytes that ends on a character boundary. */
export function utf8Prefix(buf: Buffer, max: number): Buffer {
  if (buf.length <= max) return buf
  let end = max
  while (end > 0 && (buf[end]! & 0xc0) === 0x80) end-- // step back over continuation bytes
  return buf.subarray(0, end)
}
