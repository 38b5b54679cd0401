import type { FileDescriptorInfo } from '../../schemas/types.js'

/** A descriptor's fields without its number, which is the table key. */
export type FdEntry = Omit<FileDescriptorInfo, 'num'>

/** Falco's fd.typechar for each fd.type. */
const TYPE_CHARS: Record<string, string> = {
  file: 'f',
  directory: 'd',
  ipv4: '4',
  ipv6: '6',
  unix: 'u',
  pipe: 'p',
  event: 'e',
  signalfd: 's',
  eventpoll: 'l',
  inotify: 'i',
  timerfd: 't',
  netlink: 'n',
  bpf: 'b',
  userfaultfd: 'u',
  memfd: 'm',
}

/**
 * The open descriptors of one process. At most `maxEntries` are kept; past that the oldest
 * entry is dropped and the next event on it looks the descriptor up in /proc again.
 */
export class FdTable {
  private readonly entries = new Map<number, FdEntry>()

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size
  }

  get(fd: number): FdEntry | undefined {
    return this.entries.get(fd)
  }

  set(fd: number, entry: FdEntry): void {
    this.entries.delete(fd)
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
    this.entries.set(fd, entry)
  }

  delete(fd: number): void {
    this.entries.delete(fd)
  }

  /** Copies the table for a forked child, which inherits every descriptor. */
  clone(): FdTable {
    const copy = new FdTable(this.maxEntries)
    for (const [fd, entry] of this.entries) copy.entries.set(fd, entry)
    return copy
  }
}

/** Builds an entry of a given fd.type with the other fields unset. */
export function fdEntry(type: string, name: string, extra: Partial<FdEntry> = {}): FdEntry {
  return {
    type,
    typechar: TYPE_CHARS[type] ?? 'o',
    name,
    ino: null,
    dev: null,
    l4proto: null,
    sockfamily: null,
    cip: null,
    cport: null,
    sip: null,
    sport: null,
    is_server: null,
    ...extra,
  }
}

/**
 * Turns a /proc/<pid>/fd link target into an entry, for descriptors opened before the probe
 * started.
 */
export function fdEntryFromLink(target: string): FdEntry {
  const anon = /^anon_inode:\[?([^\]]+)\]?$/.exec(target)
  if (anon !== null) return fdEntry(anonInodeType(anon[1]), target)
  // NOTE: the family of a socket opened before the probe is not looked up in /proc/net, so it
  // reads as fd.type 'unknown' until the process connects, binds or accepts on it again.
  if (target.startsWith('socket:')) return fdEntry('unknown', target)
  if (target.startsWith('pipe:')) return fdEntry('pipe', target)
  if (target.startsWith('/memfd:')) return fdEntry('memfd', target.replace(/ \(deleted\)$/, ''))
  return fdEntry('file', target)
}

function anonInodeType(name: string): string {
  if (name === 'eventfd') return 'event'
  if (name === 'eventpoll') return 'eventpoll'
  if (name === 'inotify') return 'inotify'
  if (name === 'signalfd') return 'signalfd'
  if (name === 'timerfd') return 'timerfd'
  if (name.startsWith('bpf')) return 'bpf'
  if (name === 'userfaultfd') return 'userfaultfd'
  return 'event'
}
