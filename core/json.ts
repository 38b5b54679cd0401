import { randomBytes } from 'node:crypto'

// Random per process: event strings are attacker-controlled, and a fixed marker could be planted
// in one of them to inject raw JSON.
const BIGINT_MARKER = `bigint-${randomBytes(12).toString('hex')}-`
const BIGINT_PATTERN = new RegExp(`"${BIGINT_MARKER}(\\d+)"`, 'g')

/**
 * JSON text for values that may hold bigint. A bigint is written as a plain JSON number with all
 * its digits, so a reader with 64-bit integers (Go, Java, jq 1.7) gets the exact value back.
 * JSON.stringify escapes control characters and lone surrogates, so attacker-controlled strings
 * cannot break a line or the document.
 */
export function toJsonText(value: unknown, indent?: number): string {
  const digits: string[] = []
  const marker = BIGINT_MARKER
  const text = JSON.stringify(
    value,
    (_key, inner: unknown) => {
      if (typeof inner !== 'bigint') return inner
      digits.push(inner.toString())
      return `${marker}${digits.length - 1}`
    },
    indent,
  )
  if (digits.length === 0) return text
  return text.replace(BIGINT_PATTERN, (_match, index: string) => digits[Number(index)])
}
