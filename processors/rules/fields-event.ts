import type { SyscallEvent } from '../../schemas/types.js'
import { EVENT_PARAMETERS } from './event-table.js'
import { perEvent } from './event-cache.js'
import { eventCategory, resultText } from './event-facts.js'
import { argumentField, int64, parseIndex, simpleField } from './field-helpers.js'
import type { FieldAccessor, FieldDefinition, FieldValue } from './field-table.js'

const NS_PER_SECOND = 1_000_000_000n
const NS_PER_MS = 1_000_000n
const OPEN_TYPES = new Set(['open', 'openat', 'openat2', 'creat'])
const EXECUTE_BITS = 0o111
/** Open modes of an open-family call, as bits: see openModes() and openMode(). */
const OPEN_READ = 1
const OPEN_WRITE = 2
const OPEN_CREATE = 4
const OPEN_EXEC = 8

/** evt.* fields: the event itself, its time, result and parameters. */
export const EVENT_FIELDS: FieldDefinition[] = [
  simpleField('evt.num', 'number', (event) => event.num),
  simpleField('evt.type', 'string', (event) => event.type),
  simpleField('syscall.type', 'string', (event) => event.type),
  simpleField('evt.source', 'string', (event) => event.source),
  simpleField('evt.hostname', 'string', (event) => event.hostname),
  simpleField('evt.cpu', 'number', (event) => int64(event.cpu)),
  simpleField('evt.category', 'string', (event) => eventCategory(event.type, event.fd?.type)),
  // Falco 0.42 and later see exit events only, so the direction is always '<'.
  simpleField('evt.dir', 'string', () => '<', { isDeprecated: true }),
  simpleField('evt.latency', 'number', () => 0, { isDeprecated: true }),
  simpleField('evt.latency.s', 'number', () => 0, { isDeprecated: true }),
  simpleField('evt.latency.ns', 'number', () => 0, { isDeprecated: true }),
  simpleField('evt.latency.human', 'string', () => '0ns', { isDeprecated: true }),
  simpleField('evt.rawtime', 'number', (event) => event.ts_ns),
  simpleField('evt.rawtime.s', 'number', (event) => Number(BigInt(event.ts_ns) / NS_PER_SECOND)),
  simpleField('evt.rawtime.ns', 'number', (event) => Number(BigInt(event.ts_ns) % NS_PER_SECOND)),
  simpleField('evt.time', 'string', (event) => formatClock(event.ts_ns, true)),
  simpleField('evt.time.s', 'string', (event) => formatClock(event.ts_ns, false)),
  simpleField('evt.time.iso8601', 'string', (event) => formatIsoTime(event.ts_ns)),
  simpleField('evt.datetime', 'string', (event) => formatDateTime(event.ts_ns)),
  simpleField('evt.res', 'string', (event) =>
    event.res === null ? undefined : resultText(event.res),
  ),
  simpleField('evt.rawres', 'number', (event) => int64(event.res)),
  simpleField('evt.failed', 'bool', (event) => event.res !== null && Number(event.res) < 0),
  simpleField('evt.args', 'string', perEvent(formatArguments)),
  simpleField('evt.info', 'string', perEvent(formatArguments)),
  argumentField('evt.arg', 'string', 'required', (arg) => argumentAccessor(arg ?? '', false)),
  argumentField('evt.rawarg', 'string', 'required', (arg) => argumentAccessor(arg ?? '', true)),
  simpleField('evt.is_open_read', 'bool', openMode(OPEN_READ)),
  simpleField('evt.is_open_write', 'bool', openMode(OPEN_WRITE)),
  simpleField('evt.is_open_exec', 'bool', openMode(OPEN_EXEC)),
  simpleField('evt.is_open_create', 'bool', openMode(OPEN_CREATE)),
  simpleField('evt.buffer', 'bytes', (event) => {
    const data = event.args.data
    return data === undefined ? undefined : Buffer.from(data, 'utf8')
  }),
]

/**
 * Builds the accessor of evt.arg[X] or evt.rawarg[X]: X is a parameter name, or its index in
 * Falco's parameter order for the event type. Raw values that are integers compare as numbers.
 */
function argumentAccessor(arg: string, isRaw: boolean): FieldAccessor | string {
  if (arg === '') return 'evt.arg needs a parameter name or index'
  const index = parseIndex(arg)
  const read = (event: SyscallEvent, name: string): FieldValue => {
    const value = isRaw ? event.raw_args[name] : event.args[name]
    if (value === undefined || !isRaw) return value
    return /^-?\d+$/.test(value) ? toInteger(value) : value
  }
  if (index === undefined) return (event) => read(event, arg)
  return (event) => {
    const name = EVENT_PARAMETERS[event.type]?.[index]
    return name === undefined ? undefined : read(event, name)
  }
}

function toInteger(text: string): number | bigint {
  const value = Number(text)
  return Number.isSafeInteger(value) ? value : BigInt(text)
}

/** Formats all parameters as `name=value` pairs in Falco's parameter order. */
function formatArguments(event: SyscallEvent): string {
  const known = EVENT_PARAMETERS[event.type] ?? []
  const names = [...known.filter((name) => name in event.args)]
  for (const name of Object.keys(event.args)) if (!names.includes(name)) names.push(name)
  return names.map((name) => `${name}=${event.args[name]}`).join(' ')
}

/** Characters between the flag names of evt.arg.flags. */
const FLAG_SEPARATOR = /[|\s(),]/
/** Open flags that decide the modes, with the bits each sets. */
const FLAG_MODES: readonly [string, number][] = [
  ['O_RDONLY', OPEN_READ],
  ['O_RDWR', OPEN_READ | OPEN_WRITE],
  ['O_WRONLY', OPEN_WRITE],
  ['O_CREAT', OPEN_CREATE],
  ['O_TMPFILE', OPEN_CREATE],
]

/**
 * Returns whether an open-family call opened its file in the mode of `bit`, from the flag names
 * of evt.arg.flags (`O_RDWR|O_CREAT`, with or without the number before them). Exec means a file
 * created with an execute bit in its mode. The flags are parsed once per event.
 */
function openMode(bit: number): FieldAccessor {
  if (bit === OPEN_EXEC) {
    return (event) => {
      if (!OPEN_TYPES.has(event.type)) return false
      return (openModes(event) & OPEN_CREATE) !== 0 && (fileMode(event) & EXECUTE_BITS) !== 0
    }
  }
  return (event) => {
    if (!OPEN_TYPES.has(event.type)) return false
    return (openModes(event) & bit) !== 0
  }
}

const openModes = perEvent((event: SyscallEvent): number => {
  const modes = flagModes(event.args.flags ?? '')
  return event.type === 'creat' ? (modes & ~OPEN_READ) | OPEN_WRITE | OPEN_CREATE : modes
})

/**
 * Flags texts already parsed, with their modes. Events repeat a few texts, and the map is cleared
 * when it reaches MAX_CACHED_FLAGS entries, so odd input cannot grow it without bound.
 */
const modesByFlags = new Map<string, number>()
const MAX_CACHED_FLAGS = 4096

function flagModes(flags: string): number {
  const known = modesByFlags.get(flags)
  if (known !== undefined) return known
  let modes = 0
  for (const [flag, bits] of FLAG_MODES) if (hasFlag(flags, flag)) modes |= bits
  if (modesByFlags.size >= MAX_CACHED_FLAGS) modesByFlags.clear()
  modesByFlags.set(flags, modes)
  return modes
}

/**
 * Returns whether `flag` is one of the names in a flags text such as `577(O_RDWR|O_CREAT)`: a
 * whole name, between separators (`|`, `(`, `)`, `,`, white space) or the ends of the text.
 */
function hasFlag(flags: string, flag: string): boolean {
  for (let at = flags.indexOf(flag); at >= 0; at = flags.indexOf(flag, at + 1)) {
    const end = at + flag.length
    if (isFlagSeparator(flags, at - 1) && isFlagSeparator(flags, end)) return true
  }
  return false
}

function isFlagSeparator(text: string, index: number): boolean {
  if (index < 0 || index >= text.length) return true
  return FLAG_SEPARATOR.test(text[index])
}

/** Reads the mode parameter: octal text such as `0755`, or the decimal raw value. */
function fileMode(event: SyscallEvent): number {
  const text = event.args.mode ?? ''
  const octal = /^0[0-7]*/.exec(text)
  if (octal !== null) return parseInt(octal[0], 8)
  const raw = Number(event.raw_args.mode ?? '0')
  return Number.isFinite(raw) ? raw : 0
}

function formatClock(tsNs: SyscallEvent['ts_ns'], hasFraction: boolean): string {
  const date = dateOf(tsNs)
  const clock = [date.getHours(), date.getMinutes(), date.getSeconds()].map(pad2).join(':')
  return hasFraction ? `${clock}.${fraction(tsNs)}` : clock
}

function formatDateTime(tsNs: SyscallEvent['ts_ns']): string {
  const date = dateOf(tsNs)
  const day = `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`
  return `${day} ${formatClock(tsNs, true)}`
}

/** Formats an event time in UTC with nine fraction digits, as Falco's JSON `time` field. */
export function formatIsoTime(tsNs: SyscallEvent['ts_ns']): string {
  const iso = dateOf(tsNs).toISOString()
  return `${iso.slice(0, 19)}.${fraction(tsNs)}Z`
}

function dateOf(tsNs: SyscallEvent['ts_ns']): Date {
  return new Date(Number(BigInt(tsNs) / NS_PER_MS))
}

function fraction(tsNs: SyscallEvent['ts_ns']): string {
  return String(BigInt(tsNs) % NS_PER_SECOND).padStart(9, '0')
}

function pad2(value: number): string {
  return String(value).padStart(2, '0')
}
