import type { SyscallEvent } from '../../schemas/types.js'
import { operandText } from './condition-ast.js'
import { compileOperand } from './condition-compiler.js'
import type { CompileWarning } from './condition-compiler.js'
import { ConditionSyntaxError, parseOutputOperand } from './condition-parser.js'
import { escapeText } from './escape-text.js'
import type { FieldAccessor, FieldScalar, FieldValue } from './field-table.js'
import { CheckError, scalarText } from './operators.js'

/** Value of an output field in an alert; null when the event has no value. */
export type OutputFieldValue = null | boolean | number | bigint | string

/** A formatted output: the text, and the value of each token keyed by the token as written. */
export interface FormattedOutput {
  text: string
  fields: Record<string, OutputFieldValue>
}

/** Thrown when an output format has an invalid token. */
export class OutputFormatError extends Error {}

/** Text printed for a missing value. */
export const MISSING_TEXT = '<NA>'

type OutputPart = string | { key: string; accessor: FieldAccessor; width?: number }

/** Tokens Falco deprecated and now expands to nothing. */
const EMPTY_TOKENS = new Set(['container.info'])

/**
 * A compiled output format: `%field`, `%field[arg]`, `%Nfield` (value padded or cut to N
 * characters), `%transformer(field)`, and `%%` for a literal percent sign. Line breaks in the
 * format become spaces and values are escaped, so an alert is always one line.
 */
export class OutputFormat {
  private readonly parts: OutputPart[]

  /** Compiles a format; throws OutputFormatError for an unknown field or a malformed token. */
  constructor(format: string, warn: CompileWarning) {
    this.parts = compileParts(format.replace(/[\r\n\v\f\u2028\u2029]+/g, ' ').trim(), warn)
  }

  format(event: SyscallEvent): FormattedOutput {
    let text = ''
    const fields: Record<string, OutputFieldValue> = {}
    for (const part of this.parts) {
      if (typeof part === 'string') {
        text += part
        continue
      }
      const value = part.accessor(event)
      fields[part.key] = outputValue(value)
      text += fitWidth(renderValue(value), part.width)
    }
    return { text, fields }
  }
}

function compileParts(format: string, warn: CompileWarning): OutputPart[] {
  const parts: OutputPart[] = []
  let literal = ''
  let i = 0
  while (i < format.length) {
    const char = format[i]
    if (char !== '%') {
      literal += char
      i++
      continue
    }
    if (format[i + 1] === '%') {
      literal += '%'
      i += 2
      continue
    }
    const widthMatch = /^\d+/.exec(format.slice(i + 1))
    const start = i + 1 + (widthMatch?.[0].length ?? 0)
    const token = readToken(format, start)
    if (token === undefined) {
      literal += char
      i++
      continue
    }
    i = token.end
    if (token.key === undefined) continue
    if (EMPTY_TOKENS.has(token.key)) {
      warn('LOAD_DEPRECATED_ITEM', `output token %${token.key} is deprecated and prints nothing`)
      continue
    }
    parts.push(literal)
    literal = ''
    const width = widthMatch === null ? undefined : Number(widthMatch[0])
    parts.push({ key: token.key, accessor: compileToken(token.operand, warn), width })
  }
  parts.push(literal)
  return parts.filter((part) => part !== '')
}

function readToken(format: string, start: number) {
  let parsed
  try {
    parsed = parseOutputOperand(format, start)
  } catch (error) {
    if (!(error instanceof ConditionSyntaxError)) throw error
    throw new OutputFormatError(`invalid formatting token at offset ${start}: ${error.message}`)
  }
  if (parsed === undefined) return undefined
  if ('name' in parsed) {
    if (EMPTY_TOKENS.has(parsed.name))
      return { key: parsed.name, end: parsed.end, operand: undefined }
    throw new OutputFormatError(`invalid formatting token ${parsed.name}`)
  }
  const key = operandText(parsed.operand)
  return { key, end: parsed.end, operand: EMPTY_TOKENS.has(key) ? undefined : parsed.operand }
}

function compileToken(
  operand: Parameters<typeof compileOperand>[0] | undefined,
  warn: CompileWarning,
) {
  if (operand === undefined) return () => undefined
  try {
    return compileOperand(operand, warn).accessor
  } catch (error) {
    if (!(error instanceof CheckError)) throw error
    throw new OutputFormatError(
      `invalid formatting token ${operandText(operand)}: ${error.message}`,
    )
  }
}

function renderValue(value: FieldValue): string {
  if (value === undefined) return MISSING_TEXT
  if (Array.isArray(value)) {
    return value.map((scalar: FieldScalar) => escapeText(scalarText(scalar))).join(',')
  }
  return escapeText(scalarText(value as FieldScalar))
}

function outputValue(value: FieldValue): OutputFieldValue {
  if (value === undefined) return null
  if (Array.isArray(value)) return value.map((scalar: FieldScalar) => scalarText(scalar)).join(',')
  if (value instanceof Uint8Array) return scalarText(value)
  return value as OutputFieldValue
}

function fitWidth(text: string, width: number | undefined): string {
  if (width === undefined) return text
  return text.length > width ? text.slice(0, width) : text.padEnd(width)
}
