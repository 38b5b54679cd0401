import type {
  ContainerInfo,
  FileDescriptorInfo,
  Int64,
  MountInfo,
  ProcessInfo,
  UserInfo,
} from '../schemas/types.js'
import { setOwn } from './event-json.js'

/** One line of `sysdig -j` output: field name to value, null when sysdig has no value. */
export type SysdigRow = Record<string, unknown>

/**
 * Fields requested from `sysdig -r FILE -j -p '*%f1 %f2 ...'`, all accepted by sysdig 0.29.3. The
 * leading `*` makes sysdig print every event, with null for the fields it has no value for.
 * Without it, sysdig silently drops each event that lacks any one of them. `ancestorFields()` adds
 * `proc.apid[N]` and `proc.aname[N]` per ancestor level.
 *
 * How each SyscallEvent field is filled (see sysdig-event-converter.ts for the state it keeps):
 *
 *   ts_ns                 evt.rawtime, kept exact (long integers are quoted before JSON.parse)
 *   hostname              the source's `hostname` option; sysdig 0.29 has no host field
 *   num                   evt.num
 *   type                  evt.type
 *   source                always `syscall`
 *   cpu, res              evt.cpu, evt.rawres
 *   args, raw_args        evt.args split with the parameter names of `sysdig -L`, so `3(<f>/x)`
 *                         gives args `<f>/x` and raw_args `3`. The enter event's parameters of
 *                         the same thread are added where the exit event lacks them.
 *   proc.pid, tid         proc.pid, thread.tid (each falls back to the other, then to -1)
 *   proc.vpid, vtid, ppid proc.vpid, thread.vtid, proc.ppid
 *   proc.name             proc.name, or `<NA>` for a thread sysdig does not know (as Falco prints)
 *   proc.exe, exepath     proc.exe, proc.exepath (empty text becomes null)
 *   proc.args             proc.args split on spaces (sysdig joins the arguments with spaces)
 *   proc.cwd, tty, sid    proc.cwd, proc.tty, proc.sid
 *   proc.sname, vpgid     proc.sname, proc.vpgid
 *   proc.loginshell_id    proc.loginshellid
 *   proc.env              proc.env split before each ` NAME=`
 *   proc.is_exe_writable  proc.is_exe_writable
 *   proc.start_ts_ns      evt.rawtime minus proc.duration
 *   proc.is_exe_upper_layer, is_exe_from_memfd, exe_ino, cap_*: null, sysdig 0.29 has no such field
 *   ancestors[N-1]        proc.apid[N], proc.aname[N]; exe, exepath and args from the last event
 *                         of that pid in this capture, the parent's args from proc.pcmdline
 *   user.*                user.uid, user.name, user.homedir, user.shell, user.loginuid,
 *                         user.loginname; uid 4294967295 when the thread is unknown
 *   user.gid, group_name  group.gid, group.name
 *   fd                    null unless fd.num has a value; num, type, typechar, name from fd.*,
 *                         dev from fd.dev (printed in hex), l4proto, sockfamily, cip, cport, sip,
 *                         sport, is_server from fd.*; ino is null (sysdig 0.29 has no fd.ino)
 *   container             null for container.id `host` or no value; otherwise container.* fields,
 *                         overridden by the JSON of the capture's `container` event for that id,
 *                         which adds ip, labels and exact mounts
 */
export const SYSDIG_FIELDS = [
  'evt.num',
  'evt.rawtime',
  'evt.type',
  'evt.dir',
  'evt.cpu',
  'evt.rawres',
  'evt.args',
  'thread.tid',
  'proc.pid',
  'proc.vpid',
  'thread.vtid',
  'proc.ppid',
  'proc.name',
  'proc.exe',
  'proc.exepath',
  'proc.args',
  'proc.cwd',
  'proc.tty',
  'proc.sid',
  'proc.sname',
  'proc.vpgid',
  'proc.loginshellid',
  'proc.env',
  'proc.is_exe_writable',
  'proc.duration',
  'proc.pcmdline',
  'user.uid',
  'user.name',
  'user.homedir',
  'user.shell',
  'user.loginuid',
  'user.loginname',
  'group.gid',
  'group.name',
  'fd.num',
  'fd.type',
  'fd.typechar',
  'fd.name',
  'fd.dev',
  'fd.l4proto',
  'fd.sockfamily',
  'fd.cip',
  'fd.cport',
  'fd.sip',
  'fd.sport',
  'fd.is_server',
  'container.id',
  'container.name',
  'container.image',
  'container.type',
  'container.privileged',
  'container.mounts',
  'container.image.repository',
  'container.image.tag',
  'container.image.digest',
  'container.image.id',
] as const

/** User and group id sysdig reports for a thread it has no credentials for. */
export const UNKNOWN_ID = 4294967295

/** Value some sysdig fields print instead of leaving the field empty. */
const NOT_AVAILABLE = '<NA>'
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
/** An integer of 16 digits or more right after a key: it may not fit in a double. */
const LONG_NUMBER = /("[\w.[\]]+":)(-?\d{16,})(?=[,}])/g
const ENV_ENTRY_START = / (?=[A-Za-z_][A-Za-z0-9_]*=)/

/**
 * Container runtimes by the number in libsinsp's `sinsp_container_type` enum, which the JSON of
 * `container` events carries in `type`. Libsinsp gives no name to 5 (custom) and 10 (static);
 * these two names are ours.
 */
const CONTAINER_TYPES: Record<number, string> = {
  0: 'docker',
  1: 'lxc',
  2: 'libvirt-lxc',
  3: 'mesos',
  4: 'rkt',
  5: 'custom',
  6: 'cri',
  7: 'containerd',
  8: 'cri-o',
  9: 'bpm',
  10: 'static',
  11: 'podman',
}

/** Field pairs for ancestors 1..depth: `proc.apid[N]` and `proc.aname[N]`. */
export function ancestorFields(depth: number): string[] {
  const fields: string[] = []
  for (let level = 1; level <= depth; level++) {
    fields.push(`proc.apid[${level}]`, `proc.aname[${level}]`)
  }
  return fields
}

/** Builds the `-p` argument: every field as `%name`, after the `*` that prints all events. */
export function buildFormat(fields: readonly string[]): string {
  return `*${fields.map((field) => `%${field}`).join(' ')}`
}

/**
 * Parses one line of `sysdig -j` output. Integers of 16 digits or more are quoted first, so
 * JSON.parse keeps them exact (nanosecond times pass 2^53), and `readLong` turns them back into
 * numbers or bigints. The pattern only matches after `"key":`, which cannot occur inside a JSON
 * string because quotes there are escaped. Throws SyntaxError when the line is not JSON.
 */
export function parseSysdigLine(line: string): SysdigRow {
  return JSON.parse(line.replace(LONG_NUMBER, '$1"$2"')) as SysdigRow
}

export function readLong(row: SysdigRow, field: string): Int64 | null {
  const value = row[field]
  if (typeof value === 'number') return Number.isInteger(value) ? value : null
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) return null
  const big = BigInt(value)
  return big <= MAX_SAFE && big >= -MAX_SAFE ? Number(big) : big
}

export function readInt(row: SysdigRow, field: string): number | null {
  const value = row[field]
  return typeof value === 'number' && Number.isInteger(value) ? value : null
}

/** Text value of a field; empty text and `<NA>` become null. */
export function readText(row: SysdigRow, field: string): string | null {
  const value = row[field]
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (typeof value !== 'string' || value === '' || value === NOT_AVAILABLE) return null
  return value
}

export function readBoolean(row: SysdigRow, field: string): boolean | null {
  const value = row[field]
  return typeof value === 'boolean' ? value : null
}

/** Maps the proc.* and thread.* fields; `tsNs` is the event time that proc.duration counts to. */
export function mapProcess(row: SysdigRow, tsNs: bigint): ProcessInfo {
  const tid = readLong(row, 'thread.tid')
  const pid = readLong(row, 'proc.pid') ?? tid ?? -1
  const durationNs = readLong(row, 'proc.duration')
  return {
    pid,
    tid: tid ?? pid,
    vpid: readLong(row, 'proc.vpid'),
    vtid: readLong(row, 'thread.vtid'),
    ppid: readLong(row, 'proc.ppid'),
    name: readText(row, 'proc.name') ?? NOT_AVAILABLE,
    exe: readText(row, 'proc.exe'),
    exepath: readText(row, 'proc.exepath'),
    args: splitArgs(readText(row, 'proc.args')),
    cwd: readText(row, 'proc.cwd'),
    tty: readLong(row, 'proc.tty'),
    sid: readLong(row, 'proc.sid'),
    sname: readText(row, 'proc.sname'),
    vpgid: readLong(row, 'proc.vpgid'),
    loginshell_id: readLong(row, 'proc.loginshellid'),
    env: splitEnv(readText(row, 'proc.env')),
    is_exe_writable: readBoolean(row, 'proc.is_exe_writable'),
    is_exe_upper_layer: null,
    is_exe_from_memfd: null,
    exe_ino: null,
    start_ts_ns: durationNs === null ? null : toInt64(tsNs - BigInt(durationNs)),
    cap_permitted: null,
    cap_effective: null,
    cap_inheritable: null,
  }
}

export function mapUser(row: SysdigRow): UserInfo {
  return {
    uid: readLong(row, 'user.uid') ?? UNKNOWN_ID,
    name: readText(row, 'user.name'),
    homedir: readText(row, 'user.homedir'),
    shell: readText(row, 'user.shell'),
    loginuid: readLong(row, 'user.loginuid'),
    loginname: readText(row, 'user.loginname'),
    gid: readLong(row, 'group.gid') ?? UNKNOWN_ID,
    group_name: readText(row, 'group.name'),
  }
}

/** Maps the fd.* fields, or returns null when the event has no file descriptor. */
export function mapFileDescriptor(row: SysdigRow): FileDescriptorInfo | null {
  const num = readLong(row, 'fd.num')
  if (num === null) return null
  const dev = readText(row, 'fd.dev')
  return {
    num,
    type: readText(row, 'fd.type') ?? '',
    typechar: readText(row, 'fd.typechar') ?? '',
    // fd.name is empty for sockets before connect; readText would turn that into null.
    name: typeof row['fd.name'] === 'string' ? row['fd.name'] : '',
    ino: null,
    dev: dev !== null && /^[0-9A-Fa-f]+$/.test(dev) ? toInt64(BigInt(`0x${dev}`)) : null,
    l4proto: readText(row, 'fd.l4proto'),
    sockfamily: readText(row, 'fd.sockfamily'),
    cip: readText(row, 'fd.cip'),
    cport: readInt(row, 'fd.cport'),
    sip: readText(row, 'fd.sip'),
    sport: readInt(row, 'fd.sport'),
    is_server: readBoolean(row, 'fd.is_server'),
  }
}

/** Maps the container.* fields, or returns null on the host and for unknown threads. */
export function mapContainerFields(row: SysdigRow): ContainerInfo | null {
  const id = readText(row, 'container.id')
  if (id === null || id === 'host') return null
  return {
    id,
    full_id: null,
    name: readText(row, 'container.name'),
    type: readText(row, 'container.type'),
    image: readText(row, 'container.image'),
    image_id: readText(row, 'container.image.id'),
    image_repository: readText(row, 'container.image.repository'),
    image_tag: readText(row, 'container.image.tag'),
    image_digest: readText(row, 'container.image.digest'),
    privileged: readBoolean(row, 'container.privileged'),
    ip: null,
    labels: {},
    mounts: parseMountList(readText(row, 'container.mounts')),
  }
}

/**
 * Reads the JSON that a `container` meta event carries in its `json` parameter, the way libsinsp
 * writes a container's metadata: `{"container":{"id":…,"type":0,"image":…,"imagerepo":…,
 * "imagetag":…,"imagedigest":…,"imageid":…,"privileged":…,"ip":…,"labels":{…},"Mounts":[{"Source",
 * "Destination","Mode","RW","Propagation"}]}}`. Returns null when the text is not such JSON.
 */
export function parseContainerJson(text: string): ContainerInfo | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    // A truncated or foreign payload only costs the extra metadata; the caller keeps the fields.
    return null
  }
  const info = (parsed as { container?: unknown } | null)?.container
  if (typeof info !== 'object' || info === null) return null
  const record = info as Record<string, unknown>
  if (typeof record.id !== 'string') return null
  return {
    id: record.id,
    full_id: jsonText(record.full_id),
    name: jsonText(record.name),
    type: typeof record.type === 'number' ? (CONTAINER_TYPES[record.type] ?? null) : null,
    image: jsonText(record.image),
    image_id: jsonText(record.imageid),
    image_repository: jsonText(record.imagerepo),
    image_tag: jsonText(record.imagetag),
    image_digest: jsonText(record.imagedigest),
    privileged: typeof record.privileged === 'boolean' ? record.privileged : null,
    ip: jsonText(record.ip),
    labels: jsonLabels(record.labels),
    mounts: Array.isArray(record.Mounts) ? record.Mounts.flatMap(jsonMount) : [],
  }
}

/** Fills the null fields of `fields` from `metadata`, which wins where both have a value. */
export function mergeContainer(fields: ContainerInfo, metadata: ContainerInfo): ContainerInfo {
  const merged: ContainerInfo = { ...fields }
  for (const key of Object.keys(metadata) as Array<keyof ContainerInfo>) {
    const value = metadata[key]
    if (value !== null) (merged as unknown as Record<string, unknown>)[key] = value
  }
  if (Object.keys(metadata.labels).length === 0) merged.labels = fields.labels
  if (metadata.mounts.length === 0) merged.mounts = fields.mounts
  return merged
}

/**
 * Splits proc.args, which sysdig prints joined by spaces.
 * NOTE: an argument that itself contains spaces comes back as several entries; joined again
 * they give the same proc.args text that Falco rules compare.
 */
export function splitArgs(text: string | null): string[] {
  return text === null ? [] : text.split(' ').filter((part) => part !== '')
}

/**
 * Splits proc.env, which sysdig prints joined by spaces, before each ` NAME=`.
 * NOTE: a value that contains ` WORD=` is cut there too.
 */
export function splitEnv(text: string | null): string[] {
  return text === null ? [] : text.split(ENV_ENTRY_START)
}

export function toInt64(value: bigint): Int64 {
  return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value
}

/**
 * Parses container.mounts: entries `source:dest:mode:rdwr:propagation` joined by spaces.
 * NOTE: a source or destination path containing ':' or ' ' is cut at the wrong place. The JSON of
 * a `container` event gives exact mounts when the capture has one.
 */
function parseMountList(text: string | null): MountInfo[] {
  if (text === null) return []
  return text
    .split(' ')
    .filter((entry) => entry !== '')
    .flatMap((entry) => {
      const parts = entry.split(':')
      if (parts.length < 5) return []
      const [propagation, rdwr, mode] = parts.splice(-3).reverse()
      return [
        {
          source: parts[0],
          dest: parts.slice(1).join(':'),
          mode: mode === '' ? null : mode,
          rdwr: parseBooleanText(rdwr),
          propagation: propagation === '' ? null : propagation,
        },
      ]
    })
}

function parseBooleanText(text: string): boolean | null {
  if (text === 'true') return true
  if (text === 'false') return false
  return null
}

function jsonText(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}

function jsonLabels(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {}
  const labels: Record<string, string> = {}
  for (const [key, label] of Object.entries(value)) {
    if (typeof label === 'string') setOwn(labels, key, label)
  }
  return labels
}

function jsonMount(value: unknown): MountInfo[] {
  if (typeof value !== 'object' || value === null) return []
  const mount = value as Record<string, unknown>
  if (typeof mount.Source !== 'string' || typeof mount.Destination !== 'string') return []
  return [
    {
      source: mount.Source,
      dest: mount.Destination,
      mode: jsonText(mount.Mode),
      rdwr: typeof mount.RW === 'boolean' ? mount.RW : null,
      propagation: jsonText(mount.Propagation),
    },
  ]
}
