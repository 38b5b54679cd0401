/**
 * Renders syscall arguments the way Falco shows them in `evt.arg.NAME`: flags as names joined by
 * `|`, enumerations as their constant name, errors as errno names. Values are Linux x86_64's.
 * `raw_args` keep the numbers, except open flags, whose raw value uses Falco's portable bit
 * layout so rules and replayed captures see the same numbers.
 */

type FlagTable = ReadonlyArray<readonly [number, string]>

/** Linux open(2) flags with the bit of Falco's portable layout (PPM_O_*) for each. */
const OPEN_FLAGS: ReadonlyArray<readonly [number, string, number]> = [
  [0o100, 'O_CREAT', 1 << 2],
  [0o2000, 'O_APPEND', 1 << 3],
  [0o10000, 'O_DSYNC', 1 << 4],
  [0o200, 'O_EXCL', 1 << 5],
  [0o4000, 'O_NONBLOCK', 1 << 6],
  [0o4010000, 'O_SYNC', 1 << 7],
  [0o1000, 'O_TRUNC', 1 << 8],
  [0o40000, 'O_DIRECT', 1 << 9],
  [0o200000, 'O_DIRECTORY', 1 << 10],
  [0o100000, 'O_LARGEFILE', 1 << 11],
  [0o2000000, 'O_CLOEXEC', 1 << 12],
  [0o20200000, 'O_TMPFILE', 1 << 13],
]
const O_ACCMODE = 0o3
const PPM_O_RDONLY = 1 << 0
const PPM_O_WRONLY = 1 << 1
const PPM_O_F_CREATED = 1 << 14

export interface FormattedArg {
  text: string
  raw: string
}

/** Formats open flags; `isCreated` adds O_F_CREATED as Falco does when the open made the file. */
export function formatOpenFlags(flags: number, isCreated: boolean): FormattedArg {
  const names: string[] = []
  let raw = 0
  const access = flags & O_ACCMODE
  if (access === 0) {
    names.push('O_RDONLY')
    raw |= PPM_O_RDONLY
  } else if (access === 1) {
    names.push('O_WRONLY')
    raw |= PPM_O_WRONLY
  } else if (access === 2) {
    names.push('O_RDWR')
    raw |= PPM_O_RDONLY | PPM_O_WRONLY
  }

  for (const [bits, name, ppm] of OPEN_FLAGS) {
    if ((flags & bits) !== bits) continue
    names.push(name)
    raw |= ppm
  }
  if (isCreated) {
    names.push('O_F_CREATED')
    raw |= PPM_O_F_CREATED
  }
  return { text: names.join('|'), raw: String(raw >>> 0) }
}

/** Tells whether open flags request write access, as Falco's evt.is_open_write does. */
export function isOpenForWrite(flags: number): boolean {
  return (flags & O_ACCMODE) !== 0
}

const MODE_FLAGS: FlagTable = [
  [0o1, 'S_IXOTH'],
  [0o2, 'S_IWOTH'],
  [0o4, 'S_IROTH'],
  [0o10, 'S_IXGRP'],
  [0o20, 'S_IWGRP'],
  [0o40, 'S_IRGRP'],
  [0o100, 'S_IXUSR'],
  [0o200, 'S_IWUSR'],
  [0o400, 'S_IRUSR'],
  [0o1000, 'S_ISVTX'],
  [0o2000, 'S_ISGID'],
  [0o4000, 'S_ISUID'],
]

export function formatMode(mode: number): string {
  return formatFlags(mode & 0o7777, MODE_FLAGS)
}

export const SOCKET_FAMILIES: Record<number, string> = {
  0: 'AF_UNSPEC',
  1: 'AF_UNIX',
  2: 'AF_INET',
  10: 'AF_INET6',
  16: 'AF_NETLINK',
  17: 'AF_PACKET',
  40: 'AF_VSOCK',
  44: 'AF_XDP',
}

const SOCKET_TYPES: Record<number, string> = {
  1: 'SOCK_STREAM',
  2: 'SOCK_DGRAM',
  3: 'SOCK_RAW',
  4: 'SOCK_RDM',
  5: 'SOCK_SEQPACKET',
  10: 'SOCK_PACKET',
}
const SOCKET_TYPE_FLAGS: FlagTable = [
  [0o4000, 'SOCK_NONBLOCK'],
  [0o2000000, 'SOCK_CLOEXEC'],
]

export function formatSocketType(type: number): string {
  const base = SOCKET_TYPES[type & 0xf] ?? String(type & 0xf)
  const flags = formatFlags(type & ~0xf, SOCKET_TYPE_FLAGS)
  return flags === '' ? base : `${base}|${flags}`
}

export const PTRACE_REQUESTS: Record<number, string> = {
  0: 'PTRACE_TRACEME',
  1: 'PTRACE_PEEKTEXT',
  2: 'PTRACE_PEEKDATA',
  3: 'PTRACE_PEEKUSR',
  4: 'PTRACE_POKETEXT',
  5: 'PTRACE_POKEDATA',
  6: 'PTRACE_POKEUSR',
  7: 'PTRACE_CONT',
  8: 'PTRACE_KILL',
  9: 'PTRACE_SINGLESTEP',
  12: 'PTRACE_GETREGS',
  13: 'PTRACE_SETREGS',
  14: 'PTRACE_GETFPREGS',
  15: 'PTRACE_SETFPREGS',
  16: 'PTRACE_ATTACH',
  17: 'PTRACE_DETACH',
  24: 'PTRACE_SYSCALL',
  0x4200: 'PTRACE_SETOPTIONS',
  0x4201: 'PTRACE_GETEVENTMSG',
  0x4202: 'PTRACE_GETSIGINFO',
  0x4203: 'PTRACE_SETSIGINFO',
  0x4204: 'PTRACE_GETREGSET',
  0x4205: 'PTRACE_SETREGSET',
  0x4206: 'PTRACE_SEIZE',
  0x4207: 'PTRACE_INTERRUPT',
  0x4208: 'PTRACE_LISTEN',
}

export const SIGNALS: Record<number, string> = {
  0: '0',
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  4: 'SIGILL',
  5: 'SIGTRAP',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  10: 'SIGUSR1',
  11: 'SIGSEGV',
  12: 'SIGUSR2',
  13: 'SIGPIPE',
  14: 'SIGALRM',
  15: 'SIGTERM',
  17: 'SIGCHLD',
  18: 'SIGCONT',
  19: 'SIGSTOP',
}

const NAMESPACE_FLAGS: FlagTable = [
  [0x00020000, 'CLONE_NEWNS'],
  [0x02000000, 'CLONE_NEWCGROUP'],
  [0x04000000, 'CLONE_NEWUTS'],
  [0x08000000, 'CLONE_NEWIPC'],
  [0x10000000, 'CLONE_NEWUSER'],
  [0x20000000, 'CLONE_NEWPID'],
  [0x40000000, 'CLONE_NEWNET'],
  [0x00000080, 'CLONE_NEWTIME'],
]

const CLONE_FLAGS: FlagTable = [
  [0x00000100, 'CLONE_VM'],
  [0x00000200, 'CLONE_FS'],
  [0x00000400, 'CLONE_FILES'],
  [0x00000800, 'CLONE_SIGHAND'],
  [0x00001000, 'CLONE_PIDFD'],
  [0x00002000, 'CLONE_PTRACE'],
  [0x00004000, 'CLONE_VFORK'],
  [0x00008000, 'CLONE_PARENT'],
  [0x00010000, 'CLONE_THREAD'],
  [0x00040000, 'CLONE_SYSVSEM'],
  [0x00080000, 'CLONE_SETTLS'],
  [0x00100000, 'CLONE_PARENT_SETTID'],
  [0x00200000, 'CLONE_CHILD_CLEARTID'],
  [0x01000000, 'CLONE_CHILD_SETTID'],
  [0x00400000, 'CLONE_DETACHED'],
  [0x00800000, 'CLONE_UNTRACED'],
  [0x80000000, 'CLONE_IO'],
  ...NAMESPACE_FLAGS,
]

export function formatNamespaceFlags(flags: number): string {
  return formatFlags(flags, NAMESPACE_FLAGS)
}

export function formatCloneFlags(flags: number): string {
  return formatFlags(flags, CLONE_FLAGS)
}

export const PRCTL_OPTIONS: Record<number, string> = {
  1: 'PR_SET_PDEATHSIG',
  2: 'PR_GET_PDEATHSIG',
  3: 'PR_GET_DUMPABLE',
  4: 'PR_SET_DUMPABLE',
  8: 'PR_SET_KEEPCAPS',
  15: 'PR_SET_NAME',
  16: 'PR_GET_NAME',
  22: 'PR_SET_SECCOMP',
  23: 'PR_CAPBSET_READ',
  24: 'PR_CAPBSET_DROP',
  36: 'PR_SET_CHILD_SUBREAPER',
  38: 'PR_SET_NO_NEW_PRIVS',
  47: 'PR_CAP_AMBIENT',
}

export const BPF_COMMANDS: Record<number, string> = {
  0: 'BPF_MAP_CREATE',
  1: 'BPF_MAP_LOOKUP_ELEM',
  2: 'BPF_MAP_UPDATE_ELEM',
  3: 'BPF_MAP_DELETE_ELEM',
  4: 'BPF_MAP_GET_NEXT_KEY',
  5: 'BPF_PROG_LOAD',
  6: 'BPF_OBJ_PIN',
  7: 'BPF_OBJ_GET',
  8: 'BPF_PROG_ATTACH',
  9: 'BPF_PROG_DETACH',
  10: 'BPF_PROG_TEST_RUN',
  17: 'BPF_RAW_TRACEPOINT_OPEN',
  18: 'BPF_BTF_LOAD',
  28: 'BPF_LINK_CREATE',
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  4: 'EINTR',
  5: 'EIO',
  9: 'EBADF',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  16: 'EBUSY',
  17: 'EEXIST',
  18: 'EXDEV',
  20: 'ENOTDIR',
  21: 'EISDIR',
  22: 'EINVAL',
  24: 'EMFILE',
  28: 'ENOSPC',
  30: 'EROFS',
  36: 'ENAMETOOLONG',
  38: 'ENOSYS',
  39: 'ENOTEMPTY',
  40: 'ELOOP',
  88: 'ENOTSOCK',
  95: 'EOPNOTSUPP',
  97: 'EAFNOSUPPORT',
  98: 'EADDRINUSE',
  99: 'EADDRNOTAVAIL',
  101: 'ENETUNREACH',
  104: 'ECONNRESET',
  110: 'ETIMEDOUT',
  111: 'ECONNREFUSED',
  113: 'EHOSTUNREACH',
  115: 'EINPROGRESS',
}

/** Renders a return value: errors as their errno name, other values in decimal. */
export function formatResult(res: number): string {
  if (res >= 0) return String(res)
  return ERRNO_NAMES[-res] ?? String(res)
}

export function formatEnum(value: number, table: Record<number, string>): string {
  return table[value] ?? String(value)
}

export function formatFlags(value: number, table: FlagTable): string {
  const names: string[] = []
  for (const [bits, name] of table) {
    if (bits !== 0 && (value & bits) >>> 0 === bits >>> 0) names.push(name)
  }
  return names.join('|')
}
