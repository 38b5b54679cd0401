import type { Int64, SyscallEvent } from '../../schemas/types.js'
import type { FieldAccessor, FieldDefinition, FieldType, FieldValue } from './field-table.js'

/** Defines a field without argument. */
export function simpleField(
  name: string,
  type: FieldType,
  accessor: FieldAccessor,
  options: { isDeprecated?: boolean; isList?: boolean; isNotEqualForAll?: boolean } = {},
): FieldDefinition {
  return { name, type, argument: 'none', build: () => accessor, ...options }
}

/** Defines a field whose `[arg]` is optional or required; `build` validates the argument. */
export function argumentField(
  name: string,
  type: FieldType,
  argument: 'optional' | 'required',
  build: (arg: string | undefined) => FieldAccessor | string,
  options: { isList?: boolean } = {},
): FieldDefinition {
  return { name, type, argument, build, ...options }
}

/**
 * Defines a field that this engine accepts but cannot compute, because SyscallEvent does not carry
 * the data. Rules that use it load, and its value is always missing.
 */
export function unavailableField(name: string, type: FieldType): FieldDefinition {
  return simpleField(name, type, () => undefined)
}

/** Returns an Avro long as a field value: null becomes missing. */
export function int64(value: Int64 | null | undefined): FieldValue {
  return value === null || value === undefined ? undefined : value
}

/** Returns a nullable value as a field value: null becomes missing. */
export function optional<T extends string | boolean>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value
}

/** Joins a command name and its arguments the way Falco builds proc.cmdline. */
export function commandLine(name: string, args: readonly string[]): string {
  return args.length === 0 ? name : `${name} ${args.join(' ')}`
}

/** Parses an index argument such as `2` in `proc.aname[2]`; undefined when it is not one. */
export function parseIndex(arg: string): number | undefined {
  return /^\d+$/.test(arg) ? Number(arg) : undefined
}

/** Returns the ancestor at depth N: 0 is the process itself, 1 its parent, and so on. */
export function ancestorAt(event: SyscallEvent, depth: number) {
  if (depth === 0) {
    const { pid, name, exe, exepath, args } = event.proc
    return { pid, name, exe, exepath, args }
  }
  return event.ancestors[depth - 1]
}

/** Converts a duration between two Avro longs in nanoseconds, or missing. */
export function elapsedNs(from: Int64 | null, to: Int64): FieldValue {
  if (from === null) return undefined
  const difference = BigInt(to) - BigInt(from)
  return Number.isSafeInteger(Number(difference)) ? Number(difference) : difference
}
