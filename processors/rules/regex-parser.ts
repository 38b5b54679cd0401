/** Repeat count above which `{m,n}` is rejected, as RE2 does. */
export const MAX_REGEX_REPEAT = 1000

export type CharTest = (code: number) => boolean
export type AssertionKind =
  'textStart' | 'textEnd' | 'lineStart' | 'lineEnd' | 'wordBoundary' | 'notWordBoundary'

export type RegexNode =
  | { kind: 'char'; test: CharTest }
  | { kind: 'concat'; items: RegexNode[] }
  | { kind: 'alternate'; items: RegexNode[] }
  | { kind: 'repeat'; item: RegexNode; min: number; max: number }
  | { kind: 'assert'; assertion: AssertionKind }
  | { kind: 'empty' }

interface Flags {
  ignoreCase: boolean
  dotAll: boolean
  multiLine: boolean
}

/** Thrown for a pattern this engine does not accept. */
export class RegexSyntaxError extends Error {}

export const NEWLINE = 0x0a
export const PERL_CLASSES: Record<string, [number, number][]> = {
  d: [[0x30, 0x39]],
  w: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x5f, 0x5f],
    [0x61, 0x7a],
  ],
  s: [
    [0x09, 0x0a],
    [0x0c, 0x0d],
    [0x20, 0x20],
  ],
}
const POSIX_CLASSES: Record<string, [number, number][]> = {
  alnum: [
    [0x30, 0x39],
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  alpha: [
    [0x41, 0x5a],
    [0x61, 0x7a],
  ],
  ascii: [[0x00, 0x7f]],
  blank: [
    [0x09, 0x09],
    [0x20, 0x20],
  ],
  cntrl: [
    [0x00, 0x1f],
    [0x7f, 0x7f],
  ],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [
    [0x21, 0x2f],
    [0x3a, 0x40],
    [0x5b, 0x60],
    [0x7b, 0x7e],
  ],
  space: [
    [0x09, 0x0d],
    [0x20, 0x20],
  ],
  upper: [[0x41, 0x5a]],
  word: PERL_CLASSES.w,
  xdigit: [
    [0x30, 0x39],
    [0x41, 0x46],
    [0x61, 0x66],
  ],
}
const SIMPLE_ESCAPES: Record<string, number> = {
  n: 0x0a,
  t: 0x09,
  r: 0x0d,
  f: 0x0c,
  v: 0x0b,
  a: 0x07,
}

/**
 * Parses a pattern in RE2 syntax into a tree. Throws RegexSyntaxError for invalid patterns and
 * for the features this engine does not support.
 */
export function parseRegex(pattern: string): RegexNode {
  return new RegexParser(pattern).parse()
}

class RegexParser {
  private pos = 0
  private flags: Flags = { ignoreCase: false, dotAll: false, multiLine: false }

  constructor(private readonly pattern: string) {}

  parse(): RegexNode {
    const node = this.parseAlternation()
    if (this.pos < this.pattern.length) throw this.error(`unexpected '${this.pattern[this.pos]}'`)
    return node
  }

  private parseAlternation(): RegexNode {
    const items = [this.parseConcat()]
    while (this.pattern[this.pos] === '|') {
      this.pos++
      items.push(this.parseConcat())
    }
    return items.length === 1 ? items[0] : { kind: 'alternate', items }
  }

  private parseConcat(): RegexNode {
    const items: RegexNode[] = []
    while (
      this.pos < this.pattern.length &&
      this.pattern[this.pos] !== '|' &&
      this.pattern[this.pos] !== ')'
    ) {
      const atom = this.parseAtom()
      if (atom !== undefined) items.push(this.parseRepeats(atom))
    }
    if (items.length === 0) return { kind: 'empty' }
    return items.length === 1 ? items[0] : { kind: 'concat', items }
  }

  private parseRepeats(atom: RegexNode): RegexNode {
    let node = atom
    for (;;) {
      const bounds = this.readRepeat()
      if (bounds === undefined) return node
      if (node.kind === 'assert' || node.kind === 'empty') throw this.error('nothing to repeat')
      if (this.pattern[this.pos] === '?') this.pos++
      node = { kind: 'repeat', item: node, min: bounds[0], max: bounds[1] }
    }
  }

  private readRepeat(): [number, number] | undefined {
    const char = this.pattern[this.pos]
    if (char === '*' || char === '+' || char === '?') {
      this.pos++
      return char === '*' ? [0, Infinity] : char === '+' ? [1, Infinity] : [0, 1]
    }
    if (char !== '{') return undefined
    const match = /^\{(\d+)(,(\d*))?\}/.exec(this.pattern.slice(this.pos))
    if (match === null) return undefined
    const min = Number(match[1])
    let max = min
    if (match[2] !== undefined) max = match[3] === '' ? Infinity : Number(match[3])
    if (min > MAX_REGEX_REPEAT || (max !== Infinity && max > MAX_REGEX_REPEAT)) {
      throw this.error(`repeat counts above ${MAX_REGEX_REPEAT} are not supported`)
    }
    if (max < min) throw this.error('invalid repeat range')
    this.pos += match[0].length
    return [min, max]
  }

  private parseAtom(): RegexNode | undefined {
    const char = this.pattern[this.pos++]
    switch (char) {
      case '(':
        return this.parseGroup()
      case '[':
        return this.charNode(this.parseClass())
      case '.': {
        const dotAll = this.flags.dotAll
        return { kind: 'char', test: (code) => dotAll || code !== NEWLINE }
      }
      case '^':
        return { kind: 'assert', assertion: this.flags.multiLine ? 'lineStart' : 'textStart' }
      case '$':
        return { kind: 'assert', assertion: this.flags.multiLine ? 'lineEnd' : 'textEnd' }
      case '\\':
        return this.parseEscape()
      case '*':
      case '+':
      case '?':
        throw this.error('nothing to repeat')
      default:
        return this.literal(this.codeAt(this.pos - 1))
    }
  }

  private parseGroup(): RegexNode | undefined {
    const saved = { ...this.flags }
    if (this.pattern[this.pos] === '?') {
      const named = /^\?P?<[A-Za-z_][A-Za-z0-9_]*>/.exec(this.pattern.slice(this.pos))
      if (named !== null) {
        this.pos += named[0].length
      } else {
        const flags = /^\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(this.pattern.slice(this.pos))
        if (flags === null) throw this.error('unsupported group syntax (lookaround is not in RE2)')
        this.pos += flags[0].length
        this.applyFlags(flags[1], true)
        this.applyFlags(flags[2] ?? '', false)
        // `(?i)` changes the flags for the rest of the enclosing group.
        if (flags[3] === ')') return undefined
      }
    }
    const node = this.parseAlternation()
    if (this.pattern[this.pos] !== ')') throw this.error('missing )')
    this.pos++
    this.flags = saved
    return node
  }

  private applyFlags(letters: string, value: boolean): void {
    if (letters.includes('i')) this.flags.ignoreCase = value
    if (letters.includes('s')) this.flags.dotAll = value
    if (letters.includes('m')) this.flags.multiLine = value
  }

  private parseEscape(): RegexNode {
    const char = this.pattern[this.pos++]
    if (char === undefined) throw this.error('trailing backslash')
    const perl = PERL_CLASSES[char.toLowerCase()]
    if (perl !== undefined)
      return this.charNode({ ranges: perl, isNegated: char !== char.toLowerCase() })
    const assertions: Record<string, AssertionKind> = {
      A: 'textStart',
      z: 'textEnd',
      b: 'wordBoundary',
      B: 'notWordBoundary',
    }
    if (assertions[char] !== undefined) return { kind: 'assert', assertion: assertions[char] }
    return this.literal(this.readEscapedCode(char))
  }

  private readEscapedCode(char: string): number {
    if (SIMPLE_ESCAPES[char] !== undefined) return SIMPLE_ESCAPES[char]
    if (char === 'x') {
      const hex = /^(?:\{([0-9a-fA-F]{1,6})\}|([0-9a-fA-F]{2}))/.exec(this.pattern.slice(this.pos))
      if (hex === null) throw this.error('invalid \\x escape')
      this.pos += hex[0].length
      return parseInt(hex[1] ?? hex[2], 16)
    }
    if (/[0-9]/.test(char)) throw this.error('back-references are not supported')
    if (/[A-Za-z]/.test(char)) throw this.error(`unsupported escape \\${char}`)
    return this.codeAt(this.pos - 1)
  }

  private parseClass(): { ranges: [number, number][]; isNegated: boolean } {
    const isNegated = this.pattern[this.pos] === '^'
    if (isNegated) this.pos++
    const ranges: [number, number][] = []
    let isFirst = true
    while (this.pos < this.pattern.length && (this.pattern[this.pos] !== ']' || isFirst)) {
      isFirst = false
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.pattern.slice(this.pos))
      if (posix !== null) {
        const posixRanges = POSIX_CLASSES[posix[2]]
        if (posixRanges === undefined || posix[1] === '^')
          throw this.error(`unsupported class ${posix[0]}`)
        ranges.push(...posixRanges)
        this.pos += posix[0].length
        continue
      }
      const low = this.readClassMember(ranges)
      if (low === undefined) continue
      if (
        this.pattern[this.pos] === '-' &&
        this.pattern[this.pos + 1] !== ']' &&
        this.pos + 1 < this.pattern.length
      ) {
        this.pos++
        const high = this.readClassMember(ranges)
        if (high === undefined || high < low) throw this.error('invalid class range')
        ranges.push([low, high])
      } else {
        ranges.push([low, low])
      }
    }
    if (this.pattern[this.pos] !== ']') throw this.error('missing ]')
    this.pos++
    return { ranges, isNegated }
  }

  /** Reads one class member; a Perl class such as `\d` is added to `ranges` directly. */
  private readClassMember(ranges: [number, number][]): number | undefined {
    const code = this.codeAt(this.pos)
    this.pos += code > 0xffff ? 2 : 1
    if (code !== 0x5c) return code
    const char = this.pattern[this.pos++]
    if (char === undefined) throw this.error('trailing backslash')
    const perl = PERL_CLASSES[char]
    if (perl !== undefined) {
      ranges.push(...perl)
      return undefined
    }
    return this.readEscapedCode(char)
  }

  private literal(code: number): RegexNode {
    if (code > 0xffff) this.pos++
    return this.charNode({ ranges: [[code, code]], isNegated: false })
  }

  private charNode(charClass: { ranges: [number, number][]; isNegated: boolean }): RegexNode {
    const { ranges, isNegated } = charClass
    const inRanges = (code: number) => ranges.some(([low, high]) => code >= low && code <= high)
    const matchesCase = this.flags.ignoreCase
      ? (code: number) => inRanges(code) || inRanges(swapAsciiCase(code))
      : inRanges
    return { kind: 'char', test: (code) => matchesCase(code) !== isNegated }
  }

  private codeAt(index: number): number {
    return this.pattern.codePointAt(index) ?? 0
  }

  private error(message: string): RegexSyntaxError {
    return new RegexSyntaxError(`${message} at offset ${this.pos}`)
  }
}

function swapAsciiCase(code: number): number {
  if (code >= 0x41 && code <= 0x5a) return code + 0x20
  if (code >= 0x61 && code <= 0x7a) return code - 0x20
  return code
}
