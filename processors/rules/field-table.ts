import type { SyscallEvent } from '../../schemas/types.js'
import { CONTAINER_FIELDS } from './fields-container.js'
import { EVENT_FIELDS } from './fields-event.js'
import { FD_FIELDS } from './fields-fd.js'
import { PROCESS_FIELDS } from './fields-process.js'

/**
 * Falco field types, which decide the operators a field accepts and how values compare:
 * `ipaddr` compares addresses, `ipnet` tests an address against a CIDR value, `bytes` is a buffer.
 */
export type FieldType = 'string' | 'number' | 'bool' | 'ipaddr' | 'ipnet' | 'bytes'

/** One value of a field; multi-valued fields return an array of them. */
export type FieldScalar = string | number | bigint | boolean | Uint8Array

/** Value of a field for an event; undefined when the event has none ("missing" in Falco). */
export type FieldValue = FieldScalar | readonly FieldScalar[] | undefined

export type FieldAccessor = (event: SyscallEvent) => FieldValue

/**
 * Entry of the field table. `argument` is whether `[arg]` is accepted (`none`, `optional` or
 * `required`). `build` returns the accessor for an argument, or an error message when the
 * argument is invalid.
 */
export interface FieldDefinition {
  name: string
  type: FieldType
  argument: 'none' | 'optional' | 'required'
  isList?: boolean
  /** `!=` holds only when every value differs, instead of any (fd.ip, fd.port, fd.net). */
  isNotEqualForAll?: boolean
  isDeprecated?: boolean
  build: (arg: string | undefined) => FieldAccessor | string
}

/** A field name and argument resolved against the table. */
export interface ResolvedField {
  name: string
  arg?: string
  type: FieldType
  isList: boolean
  isNotEqualForAll: boolean
  isDeprecated: boolean
  accessor: FieldAccessor
}

/** Prefixes that take the rest of the name as argument: `evt.arg.flags` is `evt.arg[flags]`. */
const DOTTED_ARGUMENT_FIELDS = ['evt.arg', 'evt.rawarg']

const FIELDS = new Map<string, FieldDefinition>(
  [...EVENT_FIELDS, ...PROCESS_FIELDS, ...FD_FIELDS, ...CONTAINER_FIELDS].map((definition) => [
    definition.name,
    definition,
  ]),
)

/** Names of every field of the table, for documentation and tests. */
export const FIELD_NAMES: readonly string[] = [...FIELDS.keys()]

/**
 * Resolves a field as written in a condition or output (`proc.aname` with arg `2`,
 * `evt.arg.flags` without arg). Returns an error message when the field is unknown or its
 * argument is invalid.
 */
export function resolveField(name: string, arg?: string): ResolvedField | string {
  let definition = FIELDS.get(name)
  let argument = arg
  if (definition === undefined) {
    const prefix = DOTTED_ARGUMENT_FIELDS.find((candidate) => name.startsWith(`${candidate}.`))
    if (prefix === undefined || arg !== undefined) return `unknown field '${name}'`
    definition = FIELDS.get(prefix)
    argument = name.slice(prefix.length + 1)
  }
  if (definition === undefined) return `unknown field '${name}'`
  if (argument !== undefined && definition.argument === 'none') {
    return `field '${name}' does not take an argument`
  }
  if (argument === undefined && definition.argument === 'required') {
    return `field '${name}' requires an argument: ${name}[...]`
  }
  const accessor = definition.build(argument)
  if (typeof accessor === 'string') return accessor
  return {
    name,
    arg,
    type: definition.type,
    isList: definition.isList === true && argument === undefined,
    isNotEqualForAll: definition.isNotEqualForAll === true,
    isDeprecated: definition.isDeprecated === true,
    accessor,
  }
}
