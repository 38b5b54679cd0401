import { ArgKind, ResKind, SpecFlag } from '../../native/src/index.js'
import type { ArgKindValue, ResKindValue, SyscallSpec } from '../../native/src/index.js'

/** Rendering of an argument into `args`: fd and path values, sockets, flags, ids, enumerations. */
export type ArgFormat =
  | 'dec'
  | 'hex'
  | 'fd'
  | 'path'
  | 'string'
  | 'openFlags'
  | 'mode'
  | 'uid'
  | 'gid'
  | 'sockaddr'
  | 'socketFd'
  | 'socketFamily'
  | 'socketType'
  | 'fdPair'
  | 'ptraceRequest'
  | 'signal'
  | 'cloneFlags'
  | 'namespaceFlags'
  | 'prctlOption'
  | 'bpfCommand'

export interface SyscallParam {
  /** Falco's parameter name, or null when the argument is not reported. */
  name: string | null
  format: ArgFormat
  kind: ArgKindValue
  lenArg: number
}

export interface SyscallDefinition {
  /** Falco's event type. */
  name: string
  /** x86_64 syscall number. */
  nr: number
  params: readonly SyscallParam[]
  /** Falco's name for the return value: `fd` for calls that create one, else `res`. */
  resName: 'fd' | 'res'
  resKind: ResKindValue
  flags: number
}

/**
 * Parameter shorthand: `name:format`, or `-` for an argument that is not reported. Formats that
 * need the probe to read memory pick the argument kind: paths and strings are read as strings,
 * sockaddrs and socket fds as the kernel's view of the socket.
 */
const KIND_OF_FORMAT: Partial<Record<ArgFormat, ArgKindValue>> = {
  path: ArgKind.string,
  string: ArgKind.string,
  socketFd: ArgKind.socket,
  fdPair: ArgKind.u64At,
}

const RES_KINDS = {
  value: ResKind.value,
  fd: ResKind.value,
  file: ResKind.file,
  socket: ResKind.socket,
}

const DEFINITIONS: SyscallDefinition[] = [
  define('open', 2, ['name:path', 'flags:openFlags', 'mode:mode'], { res: 'file' }),
  define('openat', 257, ['dirfd:fd', 'name:path', 'flags:openFlags', 'mode:mode'], {
    res: 'file',
  }),
  define('openat2', 437, ['dirfd:fd', 'name:path', 'flags:openFlags@', '-'], { res: 'file' }),
  define('creat', 85, ['name:path', 'mode:mode'], { res: 'file' }),
  define('close', 3, ['fd:fd']),
  define('dup', 32, ['oldfd:fd'], { res: 'fd' }),
  define('dup2', 33, ['oldfd:fd', 'newfd:fd'], { res: 'fd' }),
  define('dup3', 292, ['oldfd:fd', 'newfd:fd', 'flags:openFlags'], { res: 'fd' }),
  define('fcntl', 72, ['fd:fd', 'cmd:dec', '-']),
  define('pipe', 22, ['fds:fdPair']),
  define('pipe2', 293, ['fds:fdPair', 'flags:openFlags']),
  define('socket', 41, ['domain:socketFamily', 'type:socketType', 'proto:dec'], {
    res: 'socket',
  }),
  define('socketpair', 53, ['domain:socketFamily', 'type:socketType', 'proto:dec', 'fds:fdPair']),
  define('connect', 42, ['fd:socketFd', 'addr:sockaddr/2', '-']),
  define('accept', 43, ['listenfd:fd', '-', '-'], { res: 'socket' }),
  define('accept4', 288, ['listenfd:fd', '-', '-', 'flags:socketType'], { res: 'socket' }),
  define('bind', 49, ['fd:socketFd', 'addr:sockaddr/2', '-']),
  define('listen', 50, ['fd:socketFd', 'backlog:dec']),
  define('sendto', 44, ['fd:socketFd', '-', 'size:dec', '-', 'addr:sockaddr/5', '-']),
  define('recvfrom', 45, ['fd:socketFd', '-', 'size:dec', '-', 'addr:sockaddr*/5', '-']),
  define('sendmsg', 46, ['fd:socketFd', '-', 'flags:hex']),
  define('recvmsg', 47, ['fd:socketFd', '-', 'flags:hex']),
  define('chdir', 80, ['path:path']),
  define('fchdir', 81, ['fd:fd']),
  define('setuid', 105, ['uid:uid']),
  define('setgid', 106, ['gid:gid']),
  define('setreuid', 113, ['ruid:uid', 'euid:uid']),
  define('setregid', 114, ['rgid:gid', 'egid:gid']),
  define('setresuid', 117, ['ruid:uid', 'euid:uid', 'suid:uid']),
  define('setresgid', 119, ['rgid:gid', 'egid:gid', 'sgid:gid']),
  define('unlink', 87, ['path:path']),
  define('unlinkat', 263, ['dirfd:fd', 'name:path', 'flags:hex']),
  define('rmdir', 84, ['path:path']),
  define('rename', 82, ['oldpath:path', 'newpath:path']),
  define('renameat', 264, ['olddirfd:fd', 'oldpath:path', 'newdirfd:fd', 'newpath:path']),
  define('renameat2', 316, [
    'olddirfd:fd',
    'oldpath:path',
    'newdirfd:fd',
    'newpath:path',
    'flags:hex',
  ]),
  define('mkdir', 83, ['path:path', 'mode:mode']),
  define('mkdirat', 258, ['dirfd:fd', 'path:path', 'mode:mode']),
  define('symlink', 88, ['target:string', 'linkpath:path']),
  define('symlinkat', 266, ['target:string', 'linkdirfd:fd', 'linkpath:path']),
  define('link', 86, ['oldpath:path', 'newpath:path']),
  define('linkat', 265, ['olddir:fd', 'oldpath:path', 'newdir:fd', 'newpath:path', 'flags:hex']),
  define('chmod', 90, ['filename:path', 'mode:mode']),
  define('fchmod', 91, ['fd:fd', 'mode:mode']),
  define('fchmodat', 268, ['dirfd:fd', 'filename:path', 'mode:mode']),
  define('fchmodat2', 452, ['dirfd:fd', 'filename:path', 'mode:mode', 'flags:hex']),
  define('ptrace', 101, ['request:ptraceRequest', 'pid:dec', 'addr:hex', 'data:hex']),
  define('memfd_create', 319, ['name:string', 'flags:hex'], { res: 'file' }),
  define('mount', 165, ['dev:path', 'dir:path', 'type:string', 'flags:hex', '-']),
  define('umount2', 166, ['name:path', 'flags:hex']),
  define('init_module', 175, ['-', 'length:dec', 'uargs:string']),
  define('finit_module', 313, ['fd:fd', 'uargs:string', 'flags:hex']),
  define('clone', 56, ['flags:cloneFlags', '-', '-', '-', '-']),
  define('clone3', 435, ['flags:cloneFlags@', 'size:dec']),
  define('fork', 57, []),
  define('vfork', 58, []),
  define('execve', 59, ['filename:path', '-', '-'], { noReadOnSuccess: true }),
  define('execveat', 322, ['dirfd:fd', 'pathname:path', '-', '-', 'flags:hex'], {
    noReadOnSuccess: true,
  }),
  define('kill', 62, ['pid:dec', 'sig:signal']),
  define('tkill', 200, ['tid:dec', 'sig:signal']),
  define('tgkill', 234, ['pid:dec', 'tid:dec', 'sig:signal']),
  define('prctl', 157, ['option:prctlOption', 'arg2_int:dec']),
  define('setns', 308, ['fd:fd', 'nstype:namespaceFlags']),
  define('unshare', 272, ['flags:namespaceFlags']),
  define('bpf', 321, ['cmd:bpfCommand', '-', '-'], { res: 'fd' }),
  define('userfaultfd', 323, ['flags:hex'], { res: 'fd' }),
]

/** Every syscall the live source can trace, by Falco event type. */
export const SYSCALLS: ReadonlyMap<string, SyscallDefinition> = new Map(
  DEFINITIONS.map((definition) => [definition.name, definition]),
)

/** The same definitions by x86_64 syscall number. */
export const SYSCALLS_BY_NR: ReadonlyMap<number, SyscallDefinition> = new Map(
  DEFINITIONS.map((definition) => [definition.nr, definition]),
)

/**
 * Builds the kernel spec table for `names` (all traced syscalls when omitted). Throws RangeError
 * for a name the table does not contain.
 */
export function buildSyscallSpecs(names?: readonly string[]): SyscallSpec[] {
  const selected = names ?? [...SYSCALLS.keys()]
  return selected.map((name) => {
    const definition = SYSCALLS.get(name)
    if (definition === undefined) throw new RangeError(`syscall ${name} cannot be traced`)
    const argKinds = Array.from({ length: 6 }, (_, i) => definition.params[i]?.kind ?? 0)
    const lenArgs = Array.from({ length: 6 }, (_, i) => definition.params[i]?.lenArg ?? 0)
    return {
      nr: definition.nr,
      argKinds: argKinds as ArgKindValue[],
      lenArgs,
      resKind: definition.resKind,
      flags: definition.flags,
    }
  })
}

interface DefineOptions {
  res?: 'value' | 'fd' | 'file' | 'socket'
  noReadOnSuccess?: boolean
}

/**
 * Shorthand per argument: `name:format`, `-` for an unreported argument, a `@` suffix to read the
 * u64 the argument points to, `/N` for a sockaddr whose length is argument N and `*` /N for one
 * whose length argument is a pointer.
 */
function define(
  name: string,
  nr: number,
  shorthand: readonly string[],
  options: DefineOptions = {},
): SyscallDefinition {
  const res = options.res ?? 'value'
  return {
    name,
    nr,
    params: shorthand.map(parseParam),
    resName: res === 'value' ? 'res' : 'fd',
    resKind: RES_KINDS[res],
    flags: options.noReadOnSuccess === true ? SpecFlag.noReadOnSuccess : 0,
  }
}

function parseParam(shorthand: string): SyscallParam {
  if (shorthand === '-') return { name: null, format: 'dec', kind: ArgKind.value, lenArg: 0 }

  const match = /^(\w+):(\w+)(@|\*?\/\d)?$/.exec(shorthand)
  if (match === null) throw new Error(`invalid parameter shorthand ${shorthand}`)
  const [, name, format, suffix = ''] = match
  let kind = KIND_OF_FORMAT[format as ArgFormat] ?? ArgKind.value
  let lenArg = 0
  if (suffix === '@') kind = ArgKind.u64At
  if (suffix.includes('/')) {
    kind = suffix.startsWith('*') ? ArgKind.sockaddrLengthPointer : ArgKind.sockaddr
    lenArg = Number(suffix.slice(-1))
  }
  return { name, format: format as ArgFormat, kind, lenArg }
}
