/**
 * Characters escaped in alert text: controls (line breaks included), format characters such as
 * bidirectional overrides, line and paragraph separators, lone UTF-16 surrogates left by invalid
 * input, and the backslash itself so that an escape in the output is never ambiguous.
 */
const UNSAFE_CHARACTERS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\\]/gu

/**
 * Escapes a value taken from an event so that an alert stays on one line and cannot be spoofed
 * by the monitored process: `\\`, `\n`, `\t` and `\r` for those, `\xHH` for other characters
 * below U+0100, `\u{HHHH}` above.
 */
export function escapeText(text: string): string {
  return text.replace(UNSAFE_CHARACTERS, escapeCharacter)
}

function escapeCharacter(char: string): string {
  switch (char) {
    case '\\':
      return '\\\\'
    case '\n':
      return '\\n'
    case '\t':
      return '\\t'
    case '\r':
      return '\\r'
  }
  const code = char.codePointAt(0) ?? 0
  if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`
  return `\\u{${code.toString(16).toUpperCase()}}`
}
