import { randomBytes } from 'node:crypto'

// Random per process: event strings are attacker-controlled, and a fixed marker could be planted
// in one of them to inject raw JSON.
const BIGINT_MARKER = `bigint-${randomBytes(12).toString('hex')}-`
const BIGINT_PATTERN = new RegExp(`"${BIGINT_MARKER}(\\d+)"`, 'g')

/**
 * Characters JSON.stringify leaves raw that still break lines or hide text in a terminal or a log
 * viewer: C1 controls (U+0085 is a line break to many readers, U+009B starts a terminal escape),
 * the Unicode line and paragraph separators, and the bidirectional overrides and isolates. They
 * can only occur inside JSON strings, where the \u escape keeps the value the same.
 */
const UNSAFE_CHARACTERS = /[\u0080-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

function escapeCharacter(character: string): string {
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`
}

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
  const exact =
    digits.length === 0
      ? text
      : text.replace(BIGINT_PATTERN, (_match, index: string) => digits[Number(index)])
  return exact.replace(UNSAFE_CHARACTERS, escapeCharacter)
}
