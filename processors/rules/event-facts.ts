import type { Int64 } from '../../schemas/types.js'

/**
 * Linux errno names by number (asm-generic/errno-base.h and errno.h), used to print evt.res as
 * Falco does: `ENOENT` for a return value of -2.
 */
const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(
  (
    '1:EPERM 2:ENOENT 3:ESRCH 4:EINTR 5:EIO 6:ENXIO 7:E2BIG 8:ENOEXEC 9:EBADF 10:ECHILD ' +
    '11:EAGAIN 12:ENOMEM 13:EACCES 14:EFAULT 15:ENOTBLK 16:EBUSY 17:EEXIST 18:EXDEV 19:ENODEV ' +
    '20:ENOTDIR 21:EISDIR 22:EINVAL 23:ENFILE 24:EMFILE 25:ENOTTY 26:ETXTBSY 27:EFBIG ' +
    '28:ENOSPC 29:ESPIPE 30:EROFS 31:EMLINK 32:EPIPE 33:EDOM 34:ERANGE 35:EDEADLK ' +
    '36:ENAMETOOLONG 37:ENOLCK 38:ENOSYS 39:ENOTEMPTY 40:ELOOP 42:ENOMSG 43:EIDRM 44:ECHRNG ' +
    '45:EL2NSYNC 46:EL3HLT 47:EL3RST 48:ELNRNG 49:EUNATCH 50:ENOCSI 51:EL2HLT 52:EBADE ' +
    '53:EBADR 54:EXFULL 55:ENOANO 56:EBADRQC 57:EBADSLT 59:EBFONT 60:ENOSTR 61:ENODATA ' +
    '62:ETIME 63:ENOSR 64:ENONET 65:ENOPKG 66:EREMOTE 67:ENOLINK 68:EADV 69:ESRMNT 70:ECOMM ' +
    '71:EPROTO 72:EMULTIHOP 73:EDOTDOT 74:EBADMSG 75:EOVERFLOW 76:ENOTUNIQ 77:EBADFD ' +
    '78:EREMCHG 79:ELIBACC 80:ELIBBAD 81:ELIBSCN 82:ELIBMAX 83:ELIBEXEC 84:EILSEQ 85:ERESTART ' +
    '86:ESTRPIPE 87:EUSERS 88:ENOTSOCK 89:EDESTADDRREQ 90:EMSGSIZE 91:EPROTOTYPE ' +
    '92:ENOPROTOOPT 93:EPROTONOSUPPORT 94:ESOCKTNOSUPPORT 95:EOPNOTSUPP 96:EPFNOSUPPORT ' +
    '97:EAFNOSUPPORT 98:EADDRINUSE 99:EADDRNOTAVAIL 100:ENETDOWN 101:ENETUNREACH ' +
    '102:ENETRESET 103:ECONNABORTED 104:ECONNRESET 105:ENOBUFS 106:EISCONN 107:ENOTCONN ' +
    '108:ESHUTDOWN 109:ETOOMANYREFS 110:ETIMEDOUT 111:ECONNREFUSED 112:EHOSTDOWN ' +
    '113:EHOSTUNREACH 114:EALREADY 115:EINPROGRESS 116:ESTALE 117:EUCLEAN 118:ENOTNAM ' +
    '119:ENAVAIL 120:EISNAM 121:EREMOTEIO 122:EDQUOT 123:ENOMEDIUM 124:EMEDIUMTYPE ' +
    '125:ECANCELED 126:ENOKEY 127:EKEYEXPIRED 128:EKEYREVOKED 129:EKEYREJECTED 130:EOWNERDEAD ' +
    '131:ENOTRECOVERABLE 132:ERFKILL 133:EHWPOISON'
  )
    .trim()
    .split(' ')
    .map((pair) => pair.split(':'))
    .map(([number, name]) => [Number(number), name]),
)

/** Event types by Falco category (evt.category); types not listed are in category `other`. */
const CATEGORY_TYPES: Readonly<Record<string, string>> = {
  file:
    'open openat openat2 creat close stat lstat fstat stat64 lstat64 fstat64 newfstatat access ' +
    'faccessat faccessat2 rename renameat renameat2 unlink unlinkat mkdir mkdirat rmdir chmod ' +
    'fchmod fchmodat chown fchown fchownat lchown link linkat symlink symlinkat readlink ' +
    'readlinkat truncate ftruncate mount umount umount2 chdir fchdir getdents getdents64 ' +
    'memfd_create inotify_init inotify_init1 fsconfig',
  net:
    'socket socketpair connect accept accept4 bind listen sendto sendmsg sendmmsg recvfrom ' +
    'recvmsg recvmmsg shutdown getsockopt setsockopt getsockname getpeername',
  process:
    'execve execveat clone clone3 fork vfork exit exit_group procexit kill tkill tgkill ' +
    'setuid setgid setreuid setregid setresuid setresgid setfsuid setfsgid ptrace prctl setns ' +
    'unshare capset chroot pivot_root setsid setpgid init_module finit_module delete_module bpf',
  'io-read': 'read pread pread64 readv preadv preadv2',
  'io-write': 'write pwrite pwrite64 writev pwritev pwritev2 sendfile splice',
  memory: 'mmap mmap2 munmap mprotect brk madvise mlock munlock mremap userfaultfd',
  signal: 'signaldeliver sigaction rt_sigaction sigprocmask rt_sigprocmask',
  sleep: 'nanosleep clock_nanosleep',
  time: 'clock_gettime gettimeofday settimeofday clock_settime',
  ipc: 'pipe pipe2 eventfd eventfd2 signalfd signalfd4 futex',
}

const CATEGORY_BY_TYPE: ReadonlyMap<string, string> = new Map(
  Object.entries(CATEGORY_TYPES).flatMap(([category, types]) =>
    types.split(' ').map((type) => [type, category] as [string, string]),
  ),
)

/** Calls whose category follows the kind of descriptor they act on, as in Falco. */
const DESCRIPTOR_CALLS = new Set(
  'close fcntl fcntl64 fstat fstat64 dup dup2 dup3 flock fsync fdatasync'.split(' '),
)
const IO_CALLS = new Set(
  CATEGORY_TYPES['io-read'].split(' ').concat(CATEGORY_TYPES['io-write'].split(' ')),
)
const SOCKET_CALLS = new Set(CATEGORY_TYPES.net.split(' '))
const NET_DESCRIPTORS = new Set(['ipv4', 'ipv6', 'netlink'])
const IPC_DESCRIPTORS = new Set([
  'unix',
  'pipe',
  'event',
  'signalfd',
  'eventpoll',
  'inotify',
  'timerfd',
])

/**
 * Returns the category of an event as evt.category prints it. Socket calls are `net`. Calls that
 * act on any descriptor (close, fcntl, read, write...) take the category of the descriptor, as
 * sysdig 0.29.3 shows on captures: `file` for files, `net` for IP sockets, `ipc` for unix
 * sockets, pipes and event descriptors. Other calls use a fixed table, with `other` for types it
 * does not list.
 */
export function eventCategory(type: string, fdType: string | undefined): string {
  if (SOCKET_CALLS.has(type) || fdType === undefined) return CATEGORY_BY_TYPE.get(type) ?? 'other'
  if (!DESCRIPTOR_CALLS.has(type) && !IO_CALLS.has(type))
    return CATEGORY_BY_TYPE.get(type) ?? 'other'
  if (NET_DESCRIPTORS.has(fdType)) return 'net'
  if (IPC_DESCRIPTORS.has(fdType)) return 'ipc'
  if (fdType === 'file' || fdType === 'directory') return 'file'
  return CATEGORY_BY_TYPE.get(type) ?? 'other'
}

/** Prints a return value as evt.res: `SUCCESS`, or the errno name for a negative value. */
export function resultText(res: Int64): string {
  const value = Number(res)
  if (value >= 0) return 'SUCCESS'
  return ERRNO_NAMES.get(-value) ?? String(value)
}
