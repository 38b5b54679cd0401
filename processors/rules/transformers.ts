import { posix } from 'node:path'
import type { LiteralValue, Operand } from './condition-ast.js'
import type { FieldAccessor, FieldScalar, FieldValue } from './field-table.js'
import type { CheckOperand } from './operators.js'
import { CheckError, scalarText } from './operators.js'

type CompileOperand = (operand: Operand) => CheckOperand

const STRING_MAPS: Record<string, (text: string) => string> = {
  tolower: (text) => text.toLowerCase(),
  toupper: (text) => text.toUpperCase(),
  b64: (text) => Buffer.from(text, 'base64').toString('utf8'),
  basename: (text) => (text === '' ? '' : posix.basename(text)),
}

/**
 * Compiles a transformer applied to its arguments. Throws CheckError for an unknown transformer,
 * wrong arguments, or getopt, which this engine does not implement.
 */
export function compileTransformer(
  name: string,
  args: (Operand | LiteralValue)[],
  text: string,
  compileOperand: CompileOperand,
): CheckOperand {
  const map = STRING_MAPS[name]
  if (map !== undefined) {
    const inner = compileOperand(onlyOperand(name, args))
    return { type: 'string', text, accessor: mapValues(inner.accessor, map) }
  }
  if (name === 'len') {
    const inner = compileOperand(onlyOperand(name, args)).accessor
    return { type: 'number', text, accessor: (event) => lengthOf(inner(event)) }
  }
  if (name === 'join') return compileJoin(args, text, compileOperand)
  if (name === 'concat') return compileConcat(args, text, compileOperand)
  // TODO: getopt(args, optstring) is not implemented, so a rule that uses it fails to load.
  throw new CheckError(`transformer '${name}' is not supported by this engine`)
}

function onlyOperand(name: string, args: (Operand | LiteralValue)[]): Operand {
  const [first, ...rest] = args
  if (first === undefined || first.kind === 'value' || rest.length > 0) {
    throw new CheckError(`transformer '${name}' takes exactly one field or transformer`)
  }
  return first
}

function mapValues(accessor: FieldAccessor, map: (text: string) => string): FieldAccessor {
  return (event) => {
    const value = accessor(event)
    if (value === undefined) return undefined
    if (Array.isArray(value)) return value.map((scalar: FieldScalar) => map(scalarText(scalar)))
    return map(scalarText(value as FieldScalar))
  }
}

function lengthOf(value: FieldValue): FieldValue {
  if (value === undefined) return undefined
  if (Array.isArray(value)) return value.length
  if (value instanceof Uint8Array) return value.length
  return Buffer.byteLength(scalarText(value as FieldScalar), 'utf8')
}

function compileJoin(
  args: (Operand | LiteralValue)[],
  text: string,
  compileOperand: CompileOperand,
): CheckOperand {
  const [separator, list, ...rest] = args
  if (separator?.kind !== 'value' || list === undefined || list.kind === 'value' || rest.length) {
    throw new CheckError('transformer join takes a separator and one field: join(", ", field)')
  }
  const inner = compileOperand(list).accessor
  return {
    type: 'string',
    text,
    accessor: (event) => {
      const value = inner(event)
      if (value === undefined) return undefined
      const values = (Array.isArray(value) ? value : [value]) as FieldScalar[]
      return values.map(scalarText).join(separator.value)
    },
  }
}

function compileConcat(
  args: (Operand | LiteralValue)[],
  text: string,
  compileOperand: CompileOperand,
): CheckOperand {
  if (args.length < 2) throw new CheckError('transformer concat takes two or more arguments')
  const parts: FieldAccessor[] = args.map((arg) => {
    if (arg.kind === 'value') return () => arg.value
    return compileOperand(arg).accessor
  })
  return {
    type: 'string',
    text,
    accessor: (event) => {
      let result = ''
      for (const part of parts) {
        const value = part(event)
        if (value === undefined) return undefined
        const values = (Array.isArray(value) ? value : [value]) as FieldScalar[]
        result += values.map(scalarText).join(' ')
      }
      return result
    },
  }
}
