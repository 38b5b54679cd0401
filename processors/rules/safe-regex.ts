/** Repeat count above which a `{m,n}` bound is rejected, as RE2 does. */
export const MAX_REGEX_REPEAT = 1000

/**
 * Compiles a `regex` operand as Falco's RE2 reads it: the pattern must match the whole value.
 * JavaScript's engine backtracks, so patterns that can backtrack exponentially are rejected
 * instead of risking a hang on attacker-controlled values: a repeated group that itself contains
 * a repeat or an alternation (`(a+)+`, `(a|aa)*`), and features RE2 lacks (back-references,
 * lookaround). Returns the matcher or an error message.
 */
export function compileSafeRegex(pattern: string): ((text: string) => boolean) | string {
  const problem = findUnsafeConstruct(pattern)
  if (problem !== undefined) return `regex '${pattern}' is not accepted: ${problem}`
  let regex: RegExp
  try {
    regex = new RegExp(`^(?:${pattern})$`)
  } catch (error) {
    return `invalid regex '${pattern}': ${(error as Error).message}`
  }
  return (text) => regex.test(text)
}

interface GroupState {
  hasRepeat: boolean
  hasAlternation: boolean
}

function findUnsafeConstruct(pattern: string): string | undefined {
  const groups: GroupState[] = [{ hasRepeat: false, hasAlternation: false }]
  let closedGroup: GroupState | undefined
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]
    const current = groups[groups.length - 1]
    const previousGroup = closedGroup
    closedGroup = undefined
    if (char === '\\') {
      const next = pattern[i + 1] ?? ''
      if (/[1-9k]/.test(next)) return 'back-references are not supported'
      i++
    } else if (char === '[') {
      i = skipClass(pattern, i)
    } else if (char === '(') {
      if (/^\(\?<?[=!]/.test(pattern.slice(i))) return 'lookaround is not supported'
      groups.push({ hasRepeat: false, hasAlternation: false })
      const prefix = /^\(\?(?::|<[A-Za-z_][A-Za-z0-9_]*>)/.exec(pattern.slice(i))
      if (prefix !== null) i += prefix[0].length - 1
    } else if (char === ')') {
      if (groups.length > 1) closedGroup = groups.pop()
      if (closedGroup !== undefined) {
        const parent = groups[groups.length - 1]
        parent.hasRepeat ||= closedGroup.hasRepeat || closedGroup.hasAlternation
      }
    } else if (char === '|') {
      current.hasAlternation = true
    } else if (char === '*' || char === '+' || char === '?' || char === '{') {
      const bound = char === '{' ? /^\{(\d*)(,(\d*))?\}/.exec(pattern.slice(i)) : null
      if (char === '{' && bound === null) continue
      if (
        bound !== null &&
        Math.max(Number(bound[1] || 0), Number(bound[3] || 0)) > MAX_REGEX_REPEAT
      ) {
        return `repeat counts above ${MAX_REGEX_REPEAT} are not supported`
      }
      // `?` makes a group optional, which cannot backtrack exponentially; after a repeat it
      // only makes that repeat lazy.
      const isRepeat = char !== '?'
      if (char === '?' && isAfterRepeat(pattern, i)) continue
      if (
        isRepeat &&
        previousGroup !== undefined &&
        (previousGroup.hasRepeat || previousGroup.hasAlternation)
      ) {
        return 'a repeated group contains a repeat or an alternation (possible catastrophic backtracking)'
      }
      current.hasRepeat = true
      if (bound !== null) i += bound[0].length - 1
    }
  }
  return undefined
}

function isAfterRepeat(pattern: string, index: number): boolean {
  return index > 0 && '*+?}'.includes(pattern[index - 1])
}

function skipClass(pattern: string, start: number): number {
  let i = start + 1
  if (pattern[i] === '^') i++
  if (pattern[i] === ']') i++
  while (i < pattern.length && pattern[i] !== ']') {
    if (pattern[i] === '\\') i++
    i++
  }
  return i
}
