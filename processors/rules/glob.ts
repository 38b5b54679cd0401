/** One element of a glob pattern. */
type GlobToken =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'char'; char: string }
  | { kind: 'set'; isNegated: boolean; ranges: [string, string][] }

/**
 * Compiles a glob with the rules of fnmatch(3) without flags: `*` matches any text including `/`,
 * `?` one character, `[...]` a set (`!` or `^` negates, `a-z` ranges), `\` escapes. The matcher
 * backtracks only to the last star, so it runs in O(pattern × text) time at worst.
 */
export function compileGlob(pattern: string, ignoreCase: boolean): (text: string) => boolean {
  const source = ignoreCase ? pattern.toLowerCase() : pattern
  const tokens = tokenize(source)
  return (text) => matchTokens(tokens, ignoreCase ? text.toLowerCase() : text)
}

function tokenize(pattern: string): GlobToken[] {
  const tokens: GlobToken[] = []
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]
    if (char === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' })
    } else if (char === '?') {
      tokens.push({ kind: 'any' })
    } else if (char === '[') {
      const set = readSet(pattern, i)
      if (set === undefined) {
        tokens.push({ kind: 'char', char })
      } else {
        tokens.push(set.token)
        i = set.end
      }
    } else if (char === '\\' && i + 1 < pattern.length) {
      tokens.push({ kind: 'char', char: pattern[++i] })
    } else {
      tokens.push({ kind: 'char', char })
    }
  }
  return tokens
}

/** Reads `[...]` starting at `start`; undefined when it is not closed (then `[` is literal). */
function readSet(pattern: string, start: number): { token: GlobToken; end: number } | undefined {
  let i = start + 1
  const isNegated = pattern[i] === '!' || pattern[i] === '^'
  if (isNegated) i++
  const ranges: [string, string][] = []
  let isFirst = true
  while (i < pattern.length && (pattern[i] !== ']' || isFirst)) {
    isFirst = false
    let low = pattern[i]
    if (low === '\\' && i + 1 < pattern.length) low = pattern[++i]
    if (pattern[i + 1] === '-' && i + 2 < pattern.length && pattern[i + 2] !== ']') {
      let high = pattern[i + 2]
      i += 2
      if (high === '\\' && i + 1 < pattern.length) high = pattern[++i]
      ranges.push([low, high])
    } else {
      ranges.push([low, low])
    }
    i++
  }
  if (i >= pattern.length) return undefined
  return { token: { kind: 'set', isNegated, ranges }, end: i }
}

function matchOne(token: GlobToken, char: string): boolean {
  if (token.kind === 'any') return true
  if (token.kind === 'char') return token.char === char
  if (token.kind === 'star') return false
  const isInSet = token.ranges.some(([low, high]) => char >= low && char <= high)
  return isInSet !== token.isNegated
}

function matchTokens(tokens: GlobToken[], text: string): boolean {
  let t = 0
  let p = 0
  let starToken = -1
  let starText = 0
  while (t < text.length) {
    const token = tokens[p]
    if (token !== undefined && token.kind === 'star') {
      starToken = p++
      starText = t
    } else if (token !== undefined && matchOne(token, text[t])) {
      p++
      t++
    } else if (starToken >= 0) {
      p = starToken + 1
      t = ++starText
    } else {
      return false
    }
  }
  while (tokens[p]?.kind === 'star') p++
  return p === tokens.length
}
