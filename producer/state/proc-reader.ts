import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Facts /proc gives about one process, for processes that started before the probe. */
export interface ProcSnapshot {
  pid: number
  ppid: number
  comm: string
  argv: string[]
  env: string[]
  exePath: string | null
  cwd: string | null
  uid: number
  gid: number
  loginUid: number | null
  sid: number
  pgid: number
  tty: number
  vpid: number | null
  /** Start time as nanoseconds since boot. */
  startBootNs: bigint
  capPermitted: bigint | null
  capEffective: bigint | null
  capInheritable: bigint | null
  exe: { ino: number; mode: number; uid: number; gid: number } | null
  /** Lines of /proc/<pid>/cgroup. */
  cgroups: string[]
}

/** Reads /proc (or a fake tree with the same layout, for tests). */
export interface ProcReader {
  listPids: () => number[]
  readProcess: (pid: number) => ProcSnapshot | null
  /** Target of /proc/<pid>/fd/<fd>: a path, `socket:[inode]`, `pipe:[inode]`, `anon_inode:...`. */
  readFdTarget: (pid: number, fd: number) => string | null
  /** Root folder of the process, to read its container's /etc/passwd. */
  rootPath: (pid: number) => string
}

/** USER_HZ: /proc/<pid>/stat counts start time in these ticks; 100 on every Linux x86_64 ABI. */
const TICKS_PER_SECOND = 100n
const NS_PER_TICK = 1_000_000_000n / TICKS_PER_SECOND
const MAX_ENV_BYTES = 4096
const NO_LOGINUID = 4294967295
const STAT_FIELD_PPID = 1
const STAT_FIELD_PGRP = 2
const STAT_FIELD_SESSION = 3
const STAT_FIELD_TTY = 4
const STAT_FIELD_START = 19

/** Creates a ProcReader over `procRoot` (normally /proc). Every read returns null when it fails. */
export function createProcReader(procRoot = '/proc'): ProcReader {
  return {
    listPids: () => listPids(procRoot),
    readProcess: (pid) => readProcess(procRoot, pid),
    readFdTarget: (pid, fd) =>
      tryRead(() => readlinkSync(join(procRoot, String(pid), 'fd', String(fd)))),
    rootPath: (pid) => join(procRoot, String(pid), 'root'),
  }
}

function listPids(procRoot: string): number[] {
  const entries = tryRead(() => readdirSync(procRoot)) ?? []
  return entries.filter((name) => /^\d+$/.test(name)).map(Number)
}

function readProcess(procRoot: string, pid: number): ProcSnapshot | null {
  const dir = join(procRoot, String(pid))
  const stat = tryRead(() => readFileSync(join(dir, 'stat'), 'utf8'))
  const status = tryRead(() => readFileSync(join(dir, 'status'), 'utf8'))
  if (stat === null || status === null) return null

  // comm may hold spaces and parentheses, so fields are counted after the last ')'.
  const commEnd = stat.lastIndexOf(')')
  const comm = stat.slice(stat.indexOf('(') + 1, commEnd)
  const fields = stat.slice(commEnd + 2).split(' ')
  const statusFields = parseStatus(status)
  const loginUid = Number(tryRead(() => readFileSync(join(dir, 'loginuid'), 'utf8')) ?? NO_LOGINUID)

  return {
    pid,
    ppid: Number(fields[STAT_FIELD_PPID]),
    comm,
    argv: splitNul(tryRead(() => readFileSync(join(dir, 'cmdline'))) ?? Buffer.alloc(0)),
    env: splitNul(
      (tryRead(() => readFileSync(join(dir, 'environ'))) ?? Buffer.alloc(0)).subarray(
        0,
        MAX_ENV_BYTES,
      ),
    ),
    exePath: tryRead(() => readlinkSync(join(dir, 'exe'))),
    cwd: tryRead(() => readlinkSync(join(dir, 'cwd'))),
    uid: idColumn(statusFields.get('Uid'), 1),
    gid: idColumn(statusFields.get('Gid'), 1),
    loginUid: loginUid === NO_LOGINUID ? null : loginUid,
    sid: Number(fields[STAT_FIELD_SESSION]),
    pgid: Number(fields[STAT_FIELD_PGRP]),
    tty: Number(fields[STAT_FIELD_TTY]),
    vpid: lastNumber(statusFields.get('NSpid')),
    startBootNs: BigInt(fields[STAT_FIELD_START] ?? 0) * NS_PER_TICK,
    capPermitted: hexBigInt(statusFields.get('CapPrm')),
    capEffective: hexBigInt(statusFields.get('CapEff')),
    capInheritable: hexBigInt(statusFields.get('CapInh')),
    exe: readExeStat(join(dir, 'exe')),
    cgroups: (tryRead(() => readFileSync(join(dir, 'cgroup'), 'utf8')) ?? '')
      .split('\n')
      .filter(Boolean),
  }
}

function readExeStat(path: string): ProcSnapshot['exe'] {
  const stat = tryRead(() => statSync(path))
  if (stat === null) return null
  return { ino: stat.ino, mode: stat.mode, uid: stat.uid, gid: stat.gid }
}

function parseStatus(status: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const line of status.split('\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim())
  }
  return fields
}

/** Returns one column of a Uid or Gid line (1 is the effective id), or 4294967295 when missing. */
function idColumn(value: string | undefined, column: number): number {
  const parts = value?.split(/\s+/) ?? []
  return parts[column] === undefined ? NO_LOGINUID : Number(parts[column])
}

function lastNumber(value: string | undefined): number | null {
  const parts = value?.split(/\s+/) ?? []
  return parts.length === 0 ? null : Number(parts[parts.length - 1])
}

function hexBigInt(value: string | undefined): bigint | null {
  return value === undefined || value === '' ? null : BigInt(`0x${value}`)
}

function splitNul(bytes: Buffer): string[] {
  const parts = bytes.toString('utf8').split('\0')
  if (parts.at(-1) === '') parts.pop()
  return parts
}

// A process may exit between listing and reading, so every read may fail; callers treat a
// failed read as "unknown".
function tryRead<T>(read: () => T): T | null {
  try {
    return read()
  } catch {
    return null
  }
}
