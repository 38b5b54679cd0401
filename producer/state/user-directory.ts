import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface UserEntry {
  name: string
  homedir: string
  shell: string
}

interface Directory {
  users: Map<number, UserEntry>
  groups: Map<number, string>
  loadedAtMs: number
  /** Tables reused until then; an unreadable root is tried again sooner than a readable one. */
  expiresAtMs: number
}

/**
 * Wait before reading a root again after it gave no users. The root of a short-lived process in
 * a container is gone once it exits, and a later process of the same container may still show it.
 */
const EMPTY_RETRY_MS = 1000

export interface UserDirectoryOptions {
  /** How long parsed /etc/passwd and /etc/group files are reused before being read again. */
  refreshIntervalMs: number
  /** Root folders (the host's and containers') whose files are kept at once. */
  maxRoots: number
  now?: () => number
}

/**
 * User and group names from /etc/passwd and /etc/group under a root folder: `/` for the host, or
 * /proc/<pid>/root for a process in a container, which has its own files. Files are parsed once
 * and read again after `refreshIntervalMs`; a file that cannot be read gives empty tables.
 */
export class UserDirectory {
  private readonly directories = new Map<string, Directory>()
  private readonly now: () => number

  constructor(private readonly options: UserDirectoryOptions) {
    this.now = options.now ?? Date.now
  }

  /** Looks a uid up under `root`; `key` names the cached tables (a container id), default root. */
  user(root: string, uid: number, key = root): UserEntry | null {
    return this.directory(root, key).users.get(uid) ?? null
  }

  group(root: string, gid: number, key = root): string | null {
    return this.directory(root, key).groups.get(gid) ?? null
  }

  private directory(root: string, key: string): Directory {
    const cached = this.directories.get(key)
    const nowMs = this.now()
    if (cached !== undefined && nowMs < cached.expiresAtMs) return cached

    const users = parsePasswd(readText(join(root, 'etc/passwd')))
    const loaded: Directory = {
      users,
      groups: parseGroup(readText(join(root, 'etc/group'))),
      loadedAtMs: nowMs,
      expiresAtMs:
        nowMs +
        (users.size === 0
          ? Math.min(EMPTY_RETRY_MS, this.options.refreshIntervalMs)
          : this.options.refreshIntervalMs),
    }
    // A container root that vanished keeps its last tables instead of losing every name.
    const directory =
      cached !== undefined && cached.users.size > 0 && users.size === 0
        ? { ...cached, loadedAtMs: nowMs, expiresAtMs: nowMs + this.options.refreshIntervalMs }
        : loaded
    this.directories.delete(key)
    if (this.directories.size >= this.options.maxRoots) {
      const oldest = this.directories.keys().next().value
      if (oldest !== undefined) this.directories.delete(oldest)
    }
    this.directories.set(key, directory)
    return directory
  }
}

/** Parses passwd(5) lines: name:password:uid:gid:gecos:home:shell. */
export function parsePasswd(text: string): Map<number, UserEntry> {
  const users = new Map<number, UserEntry>()
  for (const line of text.split('\n')) {
    const fields = line.split(':')
    if (fields.length < 7 || line.startsWith('#')) continue
    const uid = Number(fields[2])
    if (!Number.isInteger(uid) || users.has(uid)) continue
    users.set(uid, { name: fields[0], homedir: fields[5], shell: fields[6] })
  }
  return users
}

/** Parses group(5) lines: name:password:gid:members. */
export function parseGroup(text: string): Map<number, string> {
  const groups = new Map<number, string>()
  for (const line of text.split('\n')) {
    const fields = line.split(':')
    if (fields.length < 3 || line.startsWith('#')) continue
    const gid = Number(fields[2])
    if (!Number.isInteger(gid) || groups.has(gid)) continue
    groups.set(gid, fields[0])
  }
  return groups
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    // A missing or unreadable file means no names, which events report as null.
    return ''
  }
}
