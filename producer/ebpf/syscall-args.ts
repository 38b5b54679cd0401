import { posix } from 'node:path'

import { ArgKind } from '../../native/src/index.js'

import {
  BPF_COMMANDS,
  PRCTL_OPTIONS,
  PTRACE_REQUESTS,
  SIGNALS,
  SOCKET_FAMILIES,
  formatCloneFlags,
  formatEnum,
  formatMode,
  formatNamespaceFlags,
  formatOpenFlags,
  formatResult,
  formatSocketType,
} from './arg-format.js'
import { decodeCString } from './record-decoder.js'
import { formatEndpoint, parseSockaddr } from './socket-address.js'
import type { SyscallRecord } from './record-decoder.js'
import type { SyscallDefinition, SyscallParam } from './syscall-table.js'

/** Looks up names and paths the formatter needs from the producer's state. */
export interface ArgContext {
  cwd: string | null
  /** Path of an open directory descriptor, for the *at syscalls. */
  fdPath: (fd: number) => string | null
  userName: (uid: number) => string | null
  groupName: (gid: number) => string | null
  /** Whether the open that returned the descriptor created the file (O_F_CREATED). */
  isCreated: boolean
}

export interface FormattedArgs {
  args: Record<string, string>
  rawArgs: Record<string, string>
  /** Absolute paths of the path parameters, by name, for fd.name and state changes. */
  paths: Record<string, string>
  /** The numeric value of each parameter by name, after reading pointed-to u64 values. */
  values: Record<string, number>
}

/** Linux AT_FDCWD: the *at syscalls resolve relative paths against the working folder. */
export const AT_FDCWD = -100
const NOT_AVAILABLE = '<NA>'
const UNSET_ID = 0xffffffff

/**
 * Renders the parameters of a syscall record into Falco's `evt.arg` and `evt.rawarg` maps.
 * Relative paths are resolved against their directory descriptor or the working folder, as
 * Falco renders them; raw_args keep the string the process passed.
 */
export function formatSyscallArgs(
  definition: SyscallDefinition,
  record: SyscallRecord,
  context: ArgContext,
): FormattedArgs {
  const out: FormattedArgs = { args: {}, rawArgs: {}, paths: {}, values: {} }
  const params = definition.params
  for (let index = 0; index < params.length; index++) {
    const param = params[index]
    if (param.name === null) continue
    const blob = record.blobs[index]
    const value = param.kind === ArgKind.u64At ? readU64(blob) : record.args[index]
    out.values[param.name] = value
    formatParam(out, definition, param, index, value, blob, record, context)
  }

  out.args[definition.resName] = formatResult(record.res)
  out.rawArgs[definition.resName] = String(record.res)
  return out
}

function formatParam(
  out: FormattedArgs,
  definition: SyscallDefinition,
  param: SyscallParam,
  index: number,
  value: number,
  blob: Uint8Array | null,
  record: SyscallRecord,
  context: ArgContext,
): void {
  const name = param.name as string
  switch (param.format) {
    case 'path': {
      if (blob === null) return setArg(out, name, NOT_AVAILABLE, NOT_AVAILABLE)
      const raw = decodeCString(blob)
      const absolute = resolvePath(raw, dirFdBefore(definition, index, record), context)
      out.paths[name] = absolute
      return setArg(out, name, absolute, raw)
    }
    case 'string': {
      const text = blob === null ? NOT_AVAILABLE : decodeCString(blob)
      return setArg(out, name, text, text)
    }
    case 'sockaddr': {
      const address = blob === null ? null : parseSockaddr(blob)
      const text = address === null ? NOT_AVAILABLE : formatEndpoint(address)
      return setArg(out, name, text, text)
    }
    case 'openFlags': {
      const flags = formatOpenFlags(value, context.isCreated)
      return setArg(out, name, flags.text, flags.raw)
    }
    case 'fdPair': {
      const pair = readFdPair(blob)
      out.args.fd1 = out.rawArgs.fd1 = String(pair[0])
      out.args.fd2 = out.rawArgs.fd2 = String(pair[1])
      return
    }
    default:
      return setArg(
        out,
        name,
        formatNumber(param, value, context),
        String(toInt32IfFd(param, value)),
      )
  }
}

function setArg(out: FormattedArgs, name: string, text: string, raw: string): void {
  out.args[name] = text
  out.rawArgs[name] = raw
}

function formatNumber(param: SyscallParam, value: number, context: ArgContext): string {
  switch (param.format) {
    case 'hex':
      return `0x${(value >>> 0).toString(16)}`
    case 'mode':
      return formatMode(value) || '0'
    case 'uid':
      return formatId(value, context.userName)
    case 'gid':
      return formatId(value, context.groupName)
    case 'socketFamily':
      return formatEnum(value, SOCKET_FAMILIES)
    case 'socketType':
      return formatSocketType(value)
    case 'ptraceRequest':
      return formatEnum(value, PTRACE_REQUESTS)
    case 'signal':
      return formatEnum(value, SIGNALS)
    case 'cloneFlags':
      return formatCloneFlags(value)
    case 'namespaceFlags':
      return formatNamespaceFlags(value)
    case 'prctlOption':
      return formatEnum(value, PRCTL_OPTIONS)
    case 'bpfCommand':
      return formatEnum(value, BPF_COMMANDS)
    default:
      return String(toInt32IfFd(param, value))
  }
}

/**
 * Resolves `path` against a directory: the descriptor `dirFd` for the *at syscalls, else the
 * working folder. Returns the path unchanged when the base is unknown.
 */
export function resolvePath(path: string, dirFd: number | null, context: ArgContext): string {
  if (path.startsWith('/')) return posix.normalize(path)
  const base = dirFd === null || dirFd === AT_FDCWD ? context.cwd : context.fdPath(dirFd)
  if (base === null || !base.startsWith('/')) return path
  return posix.resolve(base, path)
}

/** Returns the directory descriptor argument right before a path, as in openat(dirfd, name). */
function dirFdBefore(
  definition: SyscallDefinition,
  index: number,
  record: SyscallRecord,
): number | null {
  const previous = definition.params[index - 1]
  if (
    previous === undefined ||
    previous.format !== 'fd' ||
    previous.name?.includes('dir') !== true
  ) {
    return null
  }
  return toInt32(record.args[index - 1])
}

function formatId(value: number, lookup: (id: number) => string | null): string {
  const id = value >>> 0
  if (id === UNSET_ID) return '-1'
  return lookup(id) ?? String(id)
}

function toInt32IfFd(param: SyscallParam, value: number): number {
  return param.format === 'fd' ? toInt32(value) : value
}

/** File descriptors and ids are C ints: the upper half of the register is not part of them. */
export function toInt32(value: number): number {
  // ToInt32 keeps the low 32 bits exactly for every integer a double represents without loss.
  return value | 0
}

function readU64(blob: Uint8Array | null): number {
  if (blob === null || blob.length < 8) return 0
  const view = new DataView(blob.buffer, blob.byteOffset, 8)
  return view.getUint32(0, true) + view.getUint32(4, true) * 0x100000000
}

/** Reads the int[2] that pipe, pipe2 and socketpair fill; [-1, -1] when it was not read. */
export function readFdPair(blob: Uint8Array | null): [number, number] {
  if (blob === null || blob.length < 8) return [-1, -1]
  const view = new DataView(blob.buffer, blob.byteOffset, 8)
  return [view.getInt32(0, true), view.getInt32(4, true)]
}
