/** One parameter of an event as `sysdig -L` lists it, such as `FLAGS32 flags`. */
export interface ParamInfo {
  name: string
  type: string
}

/** Parameter lists by `<dir><type>` key (`<open`, `>open`); an event may have several versions. */
export type EventTable = Map<string, ParamInfo[][]>

/** One parameter value as Falco prints `evt.arg.NAME` and `evt.rawarg.NAME`. */
export interface ParamValue {
  formatted: string
  raw: string
}

/**
 * Types that `%evt.args` prints as `RAW(FORMATTED)` when sysdig can render the value: an fd with
 * its name (`3(<f>/etc/passwd)`), a pid with its command, an errno, flag names, a uid with its user
 * name, a signal, a duration.
 */
const PAREN_TYPES = new Set([
  'FD',
  'PID',
  'ERRNO',
  'FLAGS8',
  'FLAGS16',
  'FLAGS32',
  'MODE',
  'UID',
  'GID',
  'SIGTYPE',
  'RELTIME',
  'DYNAMIC',
])

const INTEGER_TYPES = new Set([
  ...PAREN_TYPES,
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'SYSCALLID',
])

/**
 * Integer parameters that libscap prints in hexadecimal without a `0x` prefix (PF_HEX in the event
 * table of falcosecurity/libs driver/event_table.c). `sysdig -L` does not show the print format,
 * so the list is kept here; `*` matches every event. Flags are not listed: their raw part is
 * printed in decimal.
 */
const HEX_PARAMS = new Set([
  '*.addr',
  '*.dev',
  'brk.res',
  'mmap.res',
  'mmap2.res',
  'ioctl.request',
  'ioctl.argument',
  'socketpair.source',
  'socketpair.peer',
  'signalfd.mask',
  'semget.key',
  'seccomp.flags',
  'accept.flags',
  'io_uring_register.arg',
  'page_fault.ip',
  'mkdir.mode',
  'mkdirat.mode',
  'ptrace.data',
])

const LIST_LINE = /^([<>]) (\w+)\((.*)\)$/
const PAREN_VALUE = /^(-?[0-9A-Fa-f]+)\((.*)\)$/s
const OCTAL_VALUE = /^0[0-7]+$/
const HEX_VALUE = /^[0-9A-F]+$/
/** Fallback split point for events missing from the table: a space before `name=`. */
const GENERIC_PARAM_START = / (?=[A-Za-z_][A-Za-z0-9_]*=)/

/**
 * Parses the output of `sysdig -L`: one line per event version, such as
 * `< open(FD fd, FSPATH name, FLAGS32 flags, UINT32 mode, UINT32 dev)`. Lines of any other shape
 * are ignored. Versions with more parameters come first, so the newest one is tried first.
 */
export function parseEventTable(listing: string): EventTable {
  const table: EventTable = new Map()
  for (const line of listing.split('\n')) {
    const match = LIST_LINE.exec(line.trim())
    if (match === null) continue
    const [, direction, type, paramText] = match
    const params = paramText
      .split(', ')
      .filter((text) => text.trim() !== '')
      .map((text) => {
        const space = text.indexOf(' ')
        return { type: text.slice(0, space), name: text.slice(space + 1) }
      })
    const key = `${direction}${type}`
    const versions = table.get(key) ?? []
    versions.push(params)
    versions.sort((left, right) => right.length - left.length)
    table.set(key, versions)
  }
  return table
}

/**
 * Splits the text of `%evt.args` (`fd=3(<f>/etc/ld.so.cache) name=/etc/ld.so.cache mode=0 `) into
 * parameters. Each parameter is printed as `name=value `, and values may contain spaces, so the
 * text is cut only where the next expected parameter name of this event starts. The version of
 * the event that matches the most names wins. Events missing from the table are cut before every
 * ` word=`.
 */
export function splitEventArgs(
  table: EventTable,
  direction: string,
  eventType: string,
  text: string,
): Map<string, ParamValue> {
  const body = text.endsWith(' ') ? text.slice(0, -1) : text
  const result = new Map<string, ParamValue>()
  if (body === '') return result

  const versions = table.get(`${direction}${eventType}`) ?? []
  let best: Array<[ParamInfo, string]> = []
  for (const params of versions) {
    const found = cutByNames(body, params)
    if (found.length > best.length) best = found
  }

  if (best.length === 0) {
    for (const [name, value] of cutGenerically(body)) {
      result.set(name, { formatted: value, raw: value })
    }
    return result
  }
  for (const [param, value] of best) {
    result.set(param.name, toParamValue(eventType, param, value))
  }
  return result
}

/**
 * Splits `value` into the raw and formatted forms of one parameter. `3(<f>/etc/passwd)` gives raw
 * `3` and formatted `<f>/etc/passwd`, and hexadecimal and octal integers get a decimal raw form.
 */
export function toParamValue(eventType: string, param: ParamInfo, value: string): ParamValue {
  if (PAREN_TYPES.has(param.type)) {
    const match = PAREN_VALUE.exec(value)
    if (match !== null) {
      return { formatted: match[2], raw: toDecimal(eventType, param, match[1]) }
    }
  }
  if (!INTEGER_TYPES.has(param.type)) return { formatted: value, raw: value }
  return { formatted: value, raw: toDecimal(eventType, param, value) }
}

function toDecimal(eventType: string, param: ParamInfo, value: string): string {
  const isHex = HEX_PARAMS.has(`${eventType}.${param.name}`) || HEX_PARAMS.has(`*.${param.name}`)
  if (isHex && HEX_VALUE.test(value)) return BigInt(`0x${value}`).toString()
  // libscap prints octal parameters (file modes) with `%#o`, so they always start with 0.
  if (OCTAL_VALUE.test(value)) return BigInt(`0o${value.slice(1)}`).toString()
  return value
}

/**
 * Finds `params` in order in `body`. The first name must start the text. Each later value ends
 * where the next listed name that is present begins, so a version with parameters missing in the
 * middle (an older event layout) still splits.
 */
function cutByNames(body: string, params: ParamInfo[]): Array<[ParamInfo, string]> {
  const first = params.findIndex((param) => body.startsWith(`${param.name}=`))
  if (first === -1) return []

  const found: Array<[ParamInfo, string]> = []
  let index = first
  let valueStart = params[first].name.length + 1
  for (;;) {
    const next = findNextParam(body, params, index + 1, valueStart)
    if (next === null) {
      found.push([params[index], body.slice(valueStart)])
      return found
    }
    found.push([params[index], body.slice(valueStart, next.position)])
    index = next.index
    valueStart = next.position + params[index].name.length + 2
  }
}

function findNextParam(
  body: string,
  params: ParamInfo[],
  fromIndex: number,
  fromPosition: number,
): { index: number; position: number } | null {
  for (let index = fromIndex; index < params.length; index++) {
    const position = body.indexOf(` ${params[index].name}=`, fromPosition)
    if (position !== -1) return { index, position }
  }
  return null
}

function cutGenerically(body: string): Array<[string, string]> {
  return body.split(GENERIC_PARAM_START).map((part) => {
    const equals = part.indexOf('=')
    return equals === -1 ? [part, ''] : [part.slice(0, equals), part.slice(equals + 1)]
  })
}
