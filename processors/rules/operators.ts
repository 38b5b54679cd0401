import type { SyscallEvent } from '../../schemas/types.js'
import type { Quantifier } from './condition-ast.js'
import type { FieldAccessor, FieldScalar, FieldType, FieldValue } from './field-table.js'
import { compileGlob } from './glob.js'
import { isInNetwork, isSameAddress, parseIpAddress, parseIpNetwork } from './ip-address.js'
import { compileLinearRegex, RegexSyntaxError } from './linear-regex.js'

export type Predicate = (event: SyscallEvent) => boolean
type ScalarTest = (value: FieldScalar) => boolean
type Numeric = number | bigint

/** Left side of a comparison: a resolved field or transformer. */
export interface CheckOperand {
  accessor: FieldAccessor
  type: FieldType
  text: string
  /** False when the accessor never returns an array; unset when that is not known. */
  isList?: boolean
  /** `!=` must hold for every value of a list, not for any (fd.ip, fd.port, fd.net). */
  isNotEqualForAll?: boolean
}

/** Right side: constant values, or another field's value (`val(field)`). */
export type CheckRight =
  { kind: 'values'; values: string[]; isList: boolean } | { kind: 'field'; operand: CheckOperand }

const ORDER_OPERATORS = new Set(['<', '<=', '>', '>='])
const EQUALITY_OPERATORS = new Set(['=', '==', '!=', 'in', 'intersects', 'exists'])

/** Operators each field type accepts; every other combination fails the load. */
const OPERATORS_BY_TYPE: Record<FieldType, ReadonlySet<string>> = {
  string: new Set([
    ...EQUALITY_OPERATORS,
    ...ORDER_OPERATORS,
    'contains',
    'icontains',
    'bcontains',
    'startswith',
    'bstartswith',
    'endswith',
    'glob',
    'iglob',
    'regex',
    'pmatch',
  ]),
  number: new Set([...EQUALITY_OPERATORS, ...ORDER_OPERATORS]),
  bool: EQUALITY_OPERATORS,
  ipaddr: EQUALITY_OPERATORS,
  ipnet: EQUALITY_OPERATORS,
  bytes: new Set(['=', '==', '!=', 'exists', 'contains', 'startswith', 'bcontains', 'bstartswith']),
}

/**
 * Thrown while building a check whose field, operator or value is invalid. `token` is the text of
 * the condition the error is about (a field or a value), used to locate it in the rules file.
 */
export class CheckError extends Error {
  constructor(
    message: string,
    public token?: string,
  ) {
    super(message)
  }
}

/**
 * Builds the predicate of one check. A missing value makes every comparison false, `!=`
 * included. A multi-valued field matches when any of its values matches. Throws CheckError.
 */
export function buildCheck(
  left: CheckOperand,
  operator: string,
  quantifier: Quantifier | undefined,
  right: CheckRight | undefined,
): Predicate {
  if (!OPERATORS_BY_TYPE[left.type].has(operator)) {
    throw new CheckError(
      `operator '${operator}' is not allowed on ${left.type} field '${left.text}'`,
    )
  }
  const accessor = left.accessor
  if (operator === 'exists' || right === undefined) {
    return (event) => hasValue(accessor(event))
  }
  if (right.kind === 'field') return buildFieldComparison(left, operator, right.operand)

  const test = buildValuesTest(left, operator, quantifier, right.values)
  if (left.isList === false && left.type === 'string' && quantifier === undefined) {
    const fast = buildStringFastPath(accessor, operator, right.values, test)
    if (fast !== undefined) return fast
  }
  if (operator === '!=' && left.isNotEqualForAll === true) {
    return (event) => {
      const value = accessor(event)
      if (value === undefined) return false
      if (Array.isArray(value)) return value.length > 0 && value.every(test)
      return test(value as FieldScalar)
    }
  }
  return (event) => {
    const value = accessor(event)
    if (value === undefined) return false
    if (Array.isArray(value)) return value.some(test)
    return test(value as FieldScalar)
  }
}

/**
 * Builds the check of a single-valued string field for the most common operators, comparing
 * string values in place and leaving other scalars (numbers of transformed values and the like)
 * to the general `test`. Returns undefined for other operators.
 */
function buildStringFastPath(
  accessor: FieldAccessor,
  operator: string,
  values: string[],
  test: ScalarTest,
): Predicate | undefined {
  const slow = (value: FieldValue): boolean => value !== undefined && test(value as FieldScalar)
  const constant = values[0]
  switch (operator) {
    case 'in':
    case 'intersects': {
      const set = new Set(values)
      return (event) => {
        const value = accessor(event)
        return typeof value === 'string' ? set.has(value) : slow(value)
      }
    }
    case '=':
    case '==':
      return (event) => {
        const value = accessor(event)
        return typeof value === 'string' ? value === constant : slow(value)
      }
    case '!=':
      return (event) => {
        const value = accessor(event)
        return typeof value === 'string' ? value !== constant : slow(value)
      }
    case 'startswith':
      return (event) => {
        const value = accessor(event)
        return typeof value === 'string' ? value.startsWith(constant) : slow(value)
      }
    case 'endswith':
      return (event) => {
        const value = accessor(event)
        return typeof value === 'string' ? value.endsWith(constant) : slow(value)
      }
    case 'contains':
      return (event) => {
        const value = accessor(event)
        return typeof value === 'string' ? value.includes(constant) : slow(value)
      }
  }
  return undefined
}

function buildValuesTest(
  left: CheckOperand,
  operator: string,
  quantifier: Quantifier | undefined,
  values: string[],
): ScalarTest {
  if (operator === 'in' || operator === 'intersects') {
    if (left.type === 'string') return textSetTest(values)
    const tests = values.map((value) => scalarTest(left, '=', value))
    const anyTest: ScalarTest = (scalar) => {
      for (let i = 0; i < tests.length; i++) if (tests[i](scalar)) return true
      return false
    }
    if (left.type !== 'number') return anyTest
    // Small integers, such as ports, are looked up in a set; other values take the full test.
    const integers = new Set(tests.length > 0 ? numericConstants(values) : [])
    return (scalar) =>
      typeof scalar === 'number' && Number.isSafeInteger(scalar)
        ? integers.has(scalar)
        : anyTest(scalar)
  }
  if (operator === 'pmatch') return pathPrefixTest(values)
  if (quantifier === undefined) {
    if (values.length !== 1) throw new CheckError(`operator '${operator}' takes one value`)
    return scalarTest(left, operator, values[0])
  }
  const tests = values.map((value) => scalarTest(left, operator, value))
  if (quantifier === 'anyof') return (scalar) => tests.some((test) => test(scalar))
  if (quantifier === 'allof') return (scalar) => tests.every((test) => test(scalar))
  return (scalar) => tests.filter((test) => test(scalar)).length === 1
}

/** Builds the test of one value against one constant, by field type. */
function scalarTest(left: CheckOperand, operator: string, constant: string): ScalarTest {
  switch (left.type) {
    case 'number':
      return numericTest(operator, parseNumericOrFail(constant, left.text))
    case 'bool':
      return booleanTest(operator, parseBooleanOrFail(constant, left.text))
    case 'ipaddr':
      return addressTest(operator, constant, left.text)
    case 'ipnet':
      return networkTest(operator, constant, left.text)
    default:
      return textTest(operator, constant)
  }
}

function textTest(operator: string, constant: string): ScalarTest {
  const constantNumber = parseNumeric(constant)
  const order = (scalar: FieldScalar): number => {
    if (typeof scalar === 'string') return compareText(scalar, constant)
    if (isNumeric(scalar) && constantNumber !== undefined)
      return compareNumeric(scalar, constantNumber)
    return compareText(scalarText(scalar), constant)
  }
  switch (operator) {
    case '=':
    case '==':
      return (scalar) => (typeof scalar === 'string' ? scalar === constant : order(scalar) === 0)
    case '!=':
      return (scalar) => (typeof scalar === 'string' ? scalar !== constant : order(scalar) !== 0)
    case '<':
      return (scalar) => order(scalar) < 0
    case '<=':
      return (scalar) => order(scalar) <= 0
    case '>':
      return (scalar) => order(scalar) > 0
    case '>=':
      return (scalar) => order(scalar) >= 0
    default:
      return stringMatchTest(operator, constant)
  }
}

function stringMatchTest(operator: string, constant: string): ScalarTest {
  switch (operator) {
    case 'contains':
      return (scalar) => scalarText(scalar).includes(constant)
    case 'icontains': {
      const lower = asciiLower(constant)
      return (scalar) => asciiLower(scalarText(scalar)).includes(lower)
    }
    case 'startswith':
      return (scalar) => scalarText(scalar).startsWith(constant)
    case 'endswith':
      return (scalar) => scalarText(scalar).endsWith(constant)
    case 'glob':
    case 'iglob': {
      const matches = compileGlob(constant, operator === 'iglob')
      return (scalar) => matches(scalarText(scalar))
    }
    case 'regex': {
      const matches = compileRegexOrFail(constant)
      return (scalar) => matches(scalarText(scalar))
    }
    case 'bcontains':
    case 'bstartswith': {
      const bytes = parseHexOrFail(constant)
      return (scalar) => {
        const buffer = scalarBytes(scalar)
        return operator === 'bcontains' ? buffer.includes(bytes) : startsWithBytes(buffer, bytes)
      }
    }
  }
  throw new CheckError(`unknown operator '${operator}'`)
}

/** `in` on text: a set lookup for strings, the full comparison for other scalars. */
function textSetTest(values: string[]): ScalarTest {
  const set = new Set(values)
  const tests = values.map((value) => textTest('=', value))
  return (scalar) =>
    typeof scalar === 'string' ? set.has(scalar) : tests.some((test) => test(scalar))
}

/** Returns the constants of a numeric list that are safe integers, as numbers. */
function numericConstants(values: string[]): number[] {
  return values
    .map((value) => parseNumeric(value))
    .filter((value): value is number => typeof value === 'number' && Number.isSafeInteger(value))
}

function numericTest(operator: string, constant: Numeric): ScalarTest {
  const order = (scalar: FieldScalar): number | undefined => {
    const value = isNumeric(scalar) ? scalar : parseNumeric(scalarText(scalar))
    return value === undefined ? undefined : compareNumeric(value, constant)
  }
  const accept = ACCEPTED_ORDER[operator]
  if (typeof constant === 'number') {
    // Numbers against a number constant compare directly; other scalars take `order`.
    return (scalar) => {
      if (typeof scalar === 'number') return accept(compareNumbers(scalar, constant))
      const difference = order(scalar)
      return difference !== undefined && accept(difference)
    }
  }
  return (scalar) => {
    const difference = order(scalar)
    return difference !== undefined && accept(difference)
  }
}

/** Compares two numbers as Math.sign(left - right) does: NaN when either is NaN. */
function compareNumbers(left: number, right: number): number {
  if (left === right) return 0
  if (left < right) return -1
  return left > right ? 1 : NaN
}

/** Whether a comparison result (-1, 0, 1 or NaN) satisfies each ordering operator. */
const ACCEPTED_ORDER: Record<string, (difference: number) => boolean> = {
  '=': (difference) => difference === 0,
  '==': (difference) => difference === 0,
  '!=': (difference) => difference !== 0,
  '<': (difference) => difference < 0,
  '<=': (difference) => difference <= 0,
  '>': (difference) => difference > 0,
  '>=': (difference) => difference >= 0,
}

function booleanTest(operator: string, constant: boolean): ScalarTest {
  if (operator === '!=') return (scalar) => typeof scalar === 'boolean' && scalar !== constant
  return (scalar) => scalar === constant
}

function addressTest(operator: string, constant: string, field: string): ScalarTest {
  const address = parseIpAddress(constant)
  if (address === undefined)
    throw new CheckError(`'${constant}' is not an IP address for '${field}'`)
  const parse = lastValueCache(parseIpAddress)
  return (scalar) => {
    const value = parse(scalarText(scalar))
    if (value === undefined) return false
    return isSameAddress(value, address) !== (operator === '!=')
  }
}

function networkTest(operator: string, constant: string, field: string): ScalarTest {
  const network = parseIpNetwork(constant)
  if (network === undefined)
    throw new CheckError(`'${constant}' is not a CIDR network for '${field}'`)
  const parse = lastValueCache(parseIpAddress)
  return (scalar) => {
    const value = parse(scalarText(scalar))
    if (value === undefined) return false
    return isInNetwork(value, network) !== (operator === '!=')
  }
}

/** `pmatch`: the value equals a prefix or continues it after a `/`, by whole path components. */
function pathPrefixTest(prefixes: string[]): ScalarTest {
  const trimmed = prefixes.map((prefix) =>
    prefix.length > 1 ? prefix.replace(/\/+$/, '') : prefix,
  )
  return (scalar) => {
    const path = scalarText(scalar)
    return trimmed.some((prefix) => {
      if (path === prefix) return true
      const base = prefix.endsWith('/') ? prefix : `${prefix}/`
      return path.startsWith(base)
    })
  }
}

function buildFieldComparison(
  left: CheckOperand,
  operator: string,
  right: CheckOperand,
): Predicate {
  if (['in', 'intersects', 'pmatch'].includes(operator)) {
    throw new CheckError(`operator '${operator}' needs a list, not val(${right.text})`)
  }
  return (event) => {
    const leftValue = left.accessor(event)
    const rightValue = right.accessor(event)
    if (leftValue === undefined || rightValue === undefined) return false
    const rights = (Array.isArray(rightValue) ? rightValue : [rightValue]) as FieldScalar[]
    const lefts = (Array.isArray(leftValue) ? leftValue : [leftValue]) as FieldScalar[]
    return rights.some((other) => {
      const test = scalarTest(left, operator, scalarText(other))
      return lefts.some(test)
    })
  }
}

function hasValue(value: FieldValue): boolean {
  if (value === undefined) return false
  return !Array.isArray(value) || value.length > 0
}

/** Returns a scalar as text, the way outputs print it. */
export function scalarText(scalar: FieldScalar): string {
  if (typeof scalar === 'string') return scalar
  if (scalar instanceof Uint8Array) return Buffer.from(scalar).toString('utf8')
  return String(scalar)
}

function scalarBytes(scalar: FieldScalar): Buffer {
  return scalar instanceof Uint8Array
    ? Buffer.from(scalar)
    : Buffer.from(scalarText(scalar), 'utf8')
}

function startsWithBytes(buffer: Buffer, prefix: Buffer): boolean {
  return buffer.length >= prefix.length && buffer.subarray(0, prefix.length).equals(prefix)
}

function isNumeric(value: unknown): value is Numeric {
  return typeof value === 'number' || typeof value === 'bigint'
}

/** Parses a decimal, negative or `0x` hexadecimal number; undefined when the text is not one. */
export function parseNumeric(text: string): Numeric | undefined {
  if (/^[+-]?\d+$/.test(text) || /^0[xX][0-9a-fA-F]+$/.test(text)) {
    const value = BigInt(text.replace(/^\+/, ''))
    return Number.isSafeInteger(Number(value)) ? Number(value) : value
  }
  if (/^[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text)
  return undefined
}

function compareNumeric(left: Numeric, right: Numeric): number {
  if (typeof left === 'number' && typeof right === 'number') return Math.sign(left - right)
  if (Number.isInteger(Number(left)) && Number.isInteger(Number(right))) {
    const difference = BigInt(left) - BigInt(right)
    if (difference === 0n) return 0
    return difference < 0n ? -1 : 1
  }
  return Math.sign(Number(left) - Number(right))
}

function compareText(left: string, right: string): number {
  if (left === right) return 0
  return Buffer.compare(Buffer.from(left, 'utf8'), Buffer.from(right, 'utf8'))
}

/** Last text lowered by asciiLower(): the icontains checks of an event read the same value. */
const lastLowered = { input: '', output: '' }

/** Lowers ASCII letters only, as Falco's icontains does; other characters keep their case. */
function asciiLower(text: string): string {
  if (text === lastLowered.input) return lastLowered.output
  let output = text.toLowerCase()
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      output = text.replace(/[A-Z]+/g, (run) => run.toLowerCase())
      break
    }
  }
  lastLowered.input = text
  lastLowered.output = output
  return output
}

/**
 * Wraps a parser so that parsing the same text twice in a row returns the first result: the
 * rules of a set read the same address of an event many times.
 */
function lastValueCache<T>(parse: (text: string) => T): (text: string) => T {
  let lastText: string | undefined
  let lastValue: T | undefined
  return (text) => {
    if (text !== lastText) {
      lastValue = parse(text)
      lastText = text
    }
    return lastValue as T
  }
}

function parseNumericOrFail(text: string, field: string): Numeric {
  const value = parseNumeric(text)
  if (value === undefined) throw new CheckError(`'${text}' is not a number for field '${field}'`)
  return value
}

function parseBooleanOrFail(text: string, field: string): boolean {
  if (text === 'true') return true
  if (text === 'false') return false
  throw new CheckError(`'${text}' is not true or false for field '${field}'`)
}

function compileRegexOrFail(pattern: string): (text: string) => boolean {
  try {
    return compileLinearRegex(pattern)
  } catch (error) {
    if (!(error instanceof RegexSyntaxError)) throw error
    throw new CheckError(`invalid regex '${pattern}': ${error.message}`)
  }
}

function parseHexOrFail(text: string): Buffer {
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) {
    throw new CheckError(`'${text}' is not an even number of hexadecimal digits`)
  }
  return Buffer.from(text, 'hex')
}
