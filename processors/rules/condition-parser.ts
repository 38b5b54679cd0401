import type {
  CheckNode,
  ConditionNode,
  FieldOperand,
  ListValue,
  LiteralValue,
  Operand,
  Quantifier,
  RightOperand,
  TransformerOperand,
} from './condition-ast.js'

/** Nesting depth (parentheses, `not`, transformers) past which a condition is rejected. */
export const MAX_CONDITION_DEPTH = 1000

/** Transformers of the newer engines, written `name(operand)`. */
export const TRANSFORMER_NAMES = new Set([
  'tolower',
  'toupper',
  'b64',
  'basename',
  'len',
  'join',
  'concat',
  'getopt',
])

/** Every comparison operator of the language. */
export const OPERATORS: ReadonlySet<string> = new Set([
  '=',
  '==',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  'contains',
  'icontains',
  'bcontains',
  'startswith',
  'bstartswith',
  'endswith',
  'glob',
  'iglob',
  'regex',
  'in',
  'intersects',
  'pmatch',
  'exists',
])

/** Operators whose right side is a list. */
export const LIST_OPERATORS: ReadonlySet<string> = new Set(['in', 'intersects', 'pmatch'])

/** A syntax error at a character offset of the condition. */
export class ConditionSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message)
  }
}

const SYMBOL_OPERATORS = ['==', '=', '!=', '<=', '<', '>=', '>']
const WORD_OPERATORS = [...OPERATORS].filter((op) => /^[a-z]+$/.test(op))
const QUANTIFIERS: readonly Quantifier[] = ['anyof', 'oneof', 'allof']
const BLANK = /[ \t\n\r\f\v]/
const IDENTIFIER = /[a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z0-9_]+)*/y
const BARE_VALUE = /[^ \t\n\r\f\v(),="']+/y
const BARE_ARG = /[^ \t\n\r\f\v[\]"']+/y
const WORD_CHAR = /[a-zA-Z0-9_.]/
const ESCAPES: Record<string, string> = {
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  '\\': '\\',
  '/': '/',
}

/** Parses a condition into a syntax tree; throws ConditionSyntaxError. */
export function parseCondition(text: string): ConditionNode {
  return new ConditionParser(text).parse()
}

/**
 * Parses one output token operand starting at `start` (just after `%` and any width): a field
 * with its optional argument, or a transformer. Returns undefined when no identifier starts
 * there. A name without a dot is returned alone, so the caller can report it.
 */
export function parseOutputOperand(
  text: string,
  start: number,
): { operand: Operand; end: number } | { name: string; end: number } | undefined {
  const parser = new ConditionParser(text, start)
  return parser.parseOutputOperand()
}

class ConditionParser {
  private pos = 0
  private depth = 0
  private lastToken = ''

  constructor(
    private readonly text: string,
    start = 0,
  ) {
    this.pos = start
  }

  parseOutputOperand():
    { operand: Operand; end: number } | { name: string; end: number } | undefined {
    const start = this.pos
    const name = this.readIdentifier()
    if (name === undefined) return undefined
    if (TRANSFORMER_NAMES.has(name) && this.text[this.pos] === '(') {
      return { operand: this.parseTransformer(name, start), end: this.pos }
    }
    if (!name.includes('.')) return { name, end: this.pos }
    return { operand: this.parseFieldRest(name, start), end: this.pos }
  }

  parse(): ConditionNode {
    this.skipBlanks()
    if (this.pos >= this.text.length) throw this.error('empty condition')
    const node = this.parseOr()
    this.skipBlanks()
    if (this.pos < this.text.length) {
      throw this.error(`unexpected token after '${this.lastToken}', expecting 'or', 'and'`)
    }
    return node
  }

  private parseOr(): ConditionNode {
    const children = [this.parseAnd()]
    while (this.matchKeyword('or')) children.push(this.parseAnd())
    return children.length === 1 ? children[0] : { kind: 'or', children }
  }

  private parseAnd(): ConditionNode {
    const children = [this.parseNot()]
    while (this.matchKeyword('and')) children.push(this.parseNot())
    return children.length === 1 ? children[0] : { kind: 'and', children }
  }

  private parseNot(): ConditionNode {
    if (!this.matchKeyword('not')) return this.parseCheck()
    this.enter()
    const child = this.parseNot()
    this.depth--
    return { kind: 'not', child }
  }

  private parseCheck(): ConditionNode {
    this.skipBlanks()
    const offset = this.pos
    if (this.text[this.pos] === '(') {
      this.enter()
      this.pos++
      const node = this.parseOr()
      this.skipBlanks()
      this.expect(')')
      this.depth--
      return node
    }
    const name = this.readIdentifier()
    if (name === undefined) throw this.error("expected a field, a macro name or '('")
    if (TRANSFORMER_NAMES.has(name) && this.text[this.pos] === '(') {
      return this.parseComparison(this.parseTransformer(name, offset), offset)
    }
    if (!name.includes('.')) return { kind: 'macro', name, offset }
    return this.parseComparison(this.parseFieldRest(name, offset), offset)
  }

  private parseComparison(left: Operand, offset: number): CheckNode {
    this.skipBlanks()
    const operator = this.readOperator()
    if (operator === undefined) throw this.error(`expected an operator after '${this.lastToken}'`)
    if (operator === 'exists') return { kind: 'check', left, operator, offset }

    this.skipBlanks()
    const quantifier = this.readQuantifier()
    const needsList = quantifier !== undefined || LIST_OPERATORS.has(operator)
    const right: RightOperand = needsList ? this.readList() : this.readRightValue()
    return { kind: 'check', left, operator, quantifier, right, offset }
  }

  private parseFieldRest(name: string, offset: number): FieldOperand {
    if (this.text[this.pos] !== '[') return { kind: 'field', name, offset }
    this.pos++
    let arg: string
    const quote = this.text[this.pos]
    if (quote === '"' || quote === "'") {
      arg = this.readQuoted()
    } else {
      arg = this.readPattern(BARE_ARG) ?? ''
      if (arg === '') throw this.error(`expected an argument inside '${name}[...]'`)
    }
    this.expect(']')
    this.lastToken = `${name}[${arg}]`
    return { kind: 'field', name, arg, offset }
  }

  private parseTransformer(name: string, offset: number): TransformerOperand {
    this.enter()
    this.expect('(')
    const args: (Operand | LiteralValue)[] = []
    this.skipBlanks()
    while (this.text[this.pos] !== ')') {
      args.push(this.readTransformerArg())
      this.skipBlanks()
      if (this.text[this.pos] === ',') {
        this.pos++
        this.skipBlanks()
      } else if (this.text[this.pos] !== ')') {
        throw this.error(`expected ',' or ')' in the arguments of ${name}()`)
      }
    }
    this.pos++
    this.depth--
    this.lastToken = ')'
    return { kind: 'transformer', name, args, offset }
  }

  private readTransformerArg(): Operand | LiteralValue {
    const start = this.pos
    const quote = this.text[this.pos]
    if (quote === '"' || quote === "'")
      return { kind: 'value', value: this.readQuoted(), isQuoted: true }
    const name = this.readIdentifier()
    if (name !== undefined && TRANSFORMER_NAMES.has(name) && this.text[this.pos] === '(') {
      return this.parseTransformer(name, start)
    }
    if (name !== undefined && name.includes('.')) return this.parseFieldRest(name, start)
    this.pos = start
    const value = this.readPattern(BARE_VALUE)
    if (value === undefined) throw this.error('expected a field or a value as transformer argument')
    return { kind: 'value', value, isQuoted: false }
  }

  private readRightValue(): RightOperand {
    const start = this.pos
    const name = this.readIdentifier()
    if (name === 'val' && this.text[this.pos] === '(') {
      this.enter()
      this.pos++
      this.skipBlanks()
      const inner = this.readIdentifier()
      if (inner === undefined || !inner.includes('.'))
        throw this.error('expected a field inside val()')
      const operand = this.parseFieldRest(inner, start)
      this.skipBlanks()
      this.expect(')')
      this.depth--
      return { kind: 'fieldValue', operand }
    }
    this.pos = start
    return this.readValue()
  }

  private readList(): ListValue {
    if (this.text[this.pos] !== '(') return { kind: 'list', values: [this.readValue()] }
    this.pos++
    const values: LiteralValue[] = []
    this.skipBlanks()
    if (this.text[this.pos] === ')') {
      this.pos++
      this.lastToken = ')'
      return { kind: 'list', values }
    }
    for (;;) {
      values.push(this.readValue())
      this.skipBlanks()
      const next = this.text[this.pos]
      this.pos++
      if (next === ')') break
      if (next !== ',') {
        this.pos--
        throw this.error("expected ',' or ')' in a list")
      }
      this.skipBlanks()
    }
    this.lastToken = ')'
    return { kind: 'list', values }
  }

  private readValue(): LiteralValue {
    const quote = this.text[this.pos]
    if (quote === '"' || quote === "'")
      return { kind: 'value', value: this.readQuoted(), isQuoted: true }
    const value = this.readPattern(BARE_VALUE)
    if (value === undefined) throw this.error('expected a value')
    this.lastToken = value
    return { kind: 'value', value, isQuoted: false }
  }

  private readQuoted(): string {
    const quote = this.text[this.pos]
    const start = this.pos
    this.pos++
    let value = ''
    while (this.pos < this.text.length) {
      const char = this.text[this.pos++]
      if (char === quote) {
        this.lastToken = this.text.slice(start, this.pos)
        return value
      }
      if (char !== '\\') {
        value += char
        continue
      }
      value += this.readEscape(quote)
    }
    this.pos = start
    throw this.error('unterminated quoted string')
  }

  /**
   * Decodes the escape after a backslash. An unknown escape keeps the backslash and the character:
   * Falco's own rules rely on it (`proc.args contains "\ "` looks for a backslash and a space).
   */
  private readEscape(quote: string): string {
    const char = this.text[this.pos++] ?? ''
    if (char === quote) return char
    const simple = ESCAPES[char]
    if (simple !== undefined) return simple
    if (char === 'x') {
      const hex = this.text.slice(this.pos, this.pos + 2)
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        this.pos += 2
        return String.fromCharCode(parseInt(hex, 16))
      }
    }
    return `\\${char}`
  }

  private readOperator(): string | undefined {
    for (const op of SYMBOL_OPERATORS) {
      if (this.text.startsWith(op, this.pos)) {
        this.pos += op.length
        this.lastToken = op
        return op
      }
    }
    for (const op of WORD_OPERATORS) {
      if (!this.text.startsWith(op, this.pos)) continue
      const next = this.text[this.pos + op.length] ?? ''
      if (WORD_CHAR.test(next)) continue
      this.pos += op.length
      this.lastToken = op
      return op
    }
    return undefined
  }

  private readQuantifier(): Quantifier | undefined {
    for (const quantifier of QUANTIFIERS) {
      if (!this.text.startsWith(quantifier, this.pos)) continue
      const next = this.text[this.pos + quantifier.length] ?? ''
      if (next !== '(' && !BLANK.test(next)) continue
      this.pos += quantifier.length
      this.skipBlanks()
      return quantifier
    }
    return undefined
  }

  private readIdentifier(): string | undefined {
    const name = this.readPattern(IDENTIFIER)
    if (name !== undefined) this.lastToken = name
    return name
  }

  private readPattern(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.pos
    const match = pattern.exec(this.text)
    if (match === null) return undefined
    this.pos += match[0].length
    return match[0]
  }

  private matchKeyword(word: string): boolean {
    this.skipBlanks()
    if (!this.text.startsWith(word, this.pos)) return false
    const next = this.text[this.pos + word.length] ?? ''
    if (next !== '' && next !== '(' && !BLANK.test(next)) return false
    this.pos += word.length
    this.lastToken = word
    return true
  }

  private expect(char: string): void {
    if (this.text[this.pos] !== char) {
      throw this.error(`expected '${char}' after '${this.lastToken}'`)
    }
    this.pos++
    this.lastToken = char
  }

  private enter(): void {
    this.depth++
    if (this.depth > MAX_CONDITION_DEPTH) {
      throw this.error(`condition nests deeper than ${MAX_CONDITION_DEPTH} levels`)
    }
  }

  private skipBlanks(): void {
    while (this.pos < this.text.length && BLANK.test(this.text[this.pos])) this.pos++
  }

  private error(message: string): ConditionSyntaxError {
    return new ConditionSyntaxError(message, this.pos)
  }
}
