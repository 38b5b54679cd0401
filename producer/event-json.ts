import type { Schema } from 'avsc'
import { SYSCALL_EVENT_SCHEMA } from '../schemas/index.js'
import type { Int64, SyscallEvent } from '../schemas/types.js'

/**
 * A JSON value that does not match the event schema. `path` names the field, as in `proc.pid` or
 * `ancestors[0].name`, and is empty when the whole line is at fault.
 */
export class EventJsonError extends Error {
  readonly path: string

  constructor(path: string, message: string) {
    super(path === '' ? `the line ${message}` : `field \`${path}\` ${message}`)
    this.name = 'EventJsonError'
    this.path = path
  }
}

type AvroSchema = Schema & Record<string, unknown>

interface AvroField {
  name: string
  type: AvroSchema
  default?: unknown
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const MIN_LONG = -(2n ** 63n)
const MAX_LONG = 2n ** 63n - 1n
const MIN_INT = -(2 ** 31)
const MAX_INT = 2 ** 31 - 1
const DECIMAL_INTEGER = /^-?\d+$/
/** Built on first use: walking the schema once finds its named types. */
let eventWalker: SchemaWalker | undefined

/**
 * Converts one parsed JSON object of Peregrine's event file format into a SyscallEvent, walking
 * the Avro schema in schemas/syscall-event.avsc so that the file format follows the schema:
 *
 *   record   a JSON object with the record's field names; a missing field takes the schema's
 *            default, and a field without a default is required; unknown fields are rejected
 *   long     a JSON number that is a safe integer (|n| < 2^53), or a decimal string for any
 *            64-bit value; becomes a number when safe and a bigint otherwise, as the Avro codec
 *            decodes it
 *   int      a JSON number, integer, 32-bit
 *   string, boolean, null    the JSON value of that type
 *   union    null, or a value of the union's other branch
 *   array, map               a JSON array, or an object of string keys
 *
 * Throws EventJsonError naming the first field that does not match.
 */
export function decodeEventJson(value: unknown): SyscallEvent {
  eventWalker ??= new SchemaWalker(SYSCALL_EVENT_SCHEMA as AvroSchema)
  return eventWalker.decode(value) as SyscallEvent
}

class SchemaWalker {
  private readonly root: AvroSchema
  private readonly namedTypes = new Map<string, AvroSchema>()

  constructor(root: AvroSchema) {
    this.root = root
    this.collectNamedTypes(root)
  }

  decode(value: unknown): unknown {
    return this.decodeValue(this.root, value, '')
  }

  private decodeValue(schema: AvroSchema, value: unknown, path: string): unknown {
    if (Array.isArray(schema)) return this.decodeUnion(schema as AvroSchema[], value, path)
    if (typeof schema === 'string') return this.decodeNamed(schema, value, path)
    switch (schema.type) {
      case 'record':
        return this.decodeRecord(schema.fields as AvroField[], value, path)
      case 'array':
        return this.decodeArray(schema.items as AvroSchema, value, path)
      case 'map':
        return this.decodeMap(schema.values as AvroSchema, value, path)
      default:
        return this.decodeNamed(schema.type as string, value, path)
    }
  }

  private decodeNamed(name: string, value: unknown, path: string): unknown {
    switch (name) {
      case 'null':
        if (value !== null) throw wrongType(path, 'null', value)
        return null
      case 'boolean':
        if (typeof value !== 'boolean') throw wrongType(path, 'true or false', value)
        return value
      case 'string':
        if (typeof value !== 'string') throw wrongType(path, 'a string', value)
        return value
      case 'int':
        return decodeInt(value, path)
      case 'long':
        return decodeLong(value, path)
    }
    const named = this.namedTypes.get(name)
    if (named === undefined) throw new EventJsonError(path, `has unsupported schema type ${name}`)
    return this.decodeValue(named, value, path)
  }

  private decodeUnion(branches: AvroSchema[], value: unknown, path: string): unknown {
    const hasNull = branches.includes('null' as AvroSchema)
    if (value === null && hasNull) return null
    const others = branches.filter((branch) => branch !== 'null')
    if (others.length !== 1) throw new EventJsonError(path, 'has a union the event format lacks')
    return this.decodeValue(others[0], value, path)
  }

  private decodeRecord(fields: AvroField[], value: unknown, path: string): Record<string, unknown> {
    if (!isPlainObject(value)) throw wrongType(path, 'an object', value)
    const known = new Set(fields.map((field) => field.name))
    for (const key of Object.keys(value)) {
      if (!known.has(key)) throw new EventJsonError(join(path, key), 'is not part of the schema')
    }

    const record: Record<string, unknown> = {}
    for (const field of fields) {
      const fieldPath = join(path, field.name)
      const fieldValue = value[field.name]
      if (fieldValue !== undefined) {
        record[field.name] = this.decodeValue(field.type, fieldValue, fieldPath)
      } else if ('default' in field) {
        record[field.name] = this.decodeValue(field.type, structuredClone(field.default), fieldPath)
      } else {
        throw new EventJsonError(fieldPath, 'is required but missing')
      }
    }
    return record
  }

  private decodeArray(items: AvroSchema, value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) throw wrongType(path, 'an array', value)
    return value.map((item, index) => this.decodeValue(items, item, `${path}[${index}]`))
  }

  private decodeMap(values: AvroSchema, value: unknown, path: string): Record<string, unknown> {
    if (!isPlainObject(value)) throw wrongType(path, 'an object', value)
    const map: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      setOwn(map, key, this.decodeValue(values, item, join(path, key)))
    }
    return map
  }

  private collectNamedTypes(schema: AvroSchema): void {
    if (Array.isArray(schema)) {
      for (const branch of schema as AvroSchema[]) this.collectNamedTypes(branch)
      return
    }
    if (typeof schema !== 'object' || schema === null) return
    if (schema.type === 'record') {
      this.namedTypes.set(schema.name as string, schema)
      for (const field of schema.fields as AvroField[]) this.collectNamedTypes(field.type)
    }
    if (schema.type === 'array') this.collectNamedTypes(schema.items as AvroSchema)
    if (schema.type === 'map') this.collectNamedTypes(schema.values as AvroSchema)
  }
}

function decodeLong(value: unknown, path: string): Int64 {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value
    if (Number.isInteger(value)) {
      throw new EventJsonError(
        path,
        `is the JSON number ${value}, past 2^53 where JSON numbers lose digits; ` +
          'write it as a decimal string',
      )
    }
    throw wrongType(path, 'an integer or a decimal string', value)
  }
  if (typeof value !== 'string' || !DECIMAL_INTEGER.test(value)) {
    throw wrongType(path, 'an integer or a decimal string', value)
  }
  const big = BigInt(value)
  if (big < MIN_LONG || big > MAX_LONG) {
    throw new EventJsonError(path, `is ${value}, outside the signed 64-bit range`)
  }
  return big <= MAX_SAFE && big >= -MAX_SAFE ? Number(big) : big
}

function decodeInt(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_INT || value > MAX_INT) {
    throw wrongType(path, 'a 32-bit integer', value)
  }
  return value
}

function wrongType(path: string, expected: string, value: unknown): EventJsonError {
  return new EventJsonError(path, `must be ${expected}, got ${describe(value)}`)
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  const text = JSON.stringify(value)
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

/**
 * Sets a key as an own property. Plain assignment would treat a key named `__proto__`, which
 * attacker-controlled maps such as container labels can hold, as the object's prototype.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  })
}
