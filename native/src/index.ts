import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { PeregrineError } from '../../core/errors.js'

/** Kinds of reads the probe makes for one syscall argument at exit (enum pg_arg_kind). */
export const ArgKind = {
  value: 0,
  string: 1,
  sockaddr: 2,
  sockaddrLengthPointer: 3,
  u64At: 4,
  socket: 5,
} as const
export type ArgKindValue = (typeof ArgKind)[keyof typeof ArgKind]

/** Kinds of reads the probe makes about a syscall's return value (enum pg_res_kind). */
export const ResKind = { value: 0, file: 1, socket: 2 } as const
export type ResKindValue = (typeof ResKind)[keyof typeof ResKind]

/** Flags of a syscall spec (PG_SPEC_* in record.h). */
export const SpecFlag = { noReadOnSuccess: 0x1 } as const

/** One entry of the kernel's syscall spec table: which syscall to trace and what to read. */
export interface SyscallSpec {
  /** x86_64 syscall number. */
  nr: number
  argKinds: readonly ArgKindValue[]
  /** For the sockaddr kinds, the index of the argument holding the length (or its pointer). */
  lenArgs: readonly number[]
  resKind: ResKindValue
  flags: number
}

export interface ProbeOptions {
  /** Ring buffer size in bytes: a power of two from 64 KiB to 1 GiB. */
  ringBytes: number
  syscalls: readonly SyscallSpec[]
  /** Process whose syscalls are not traced, normally the consumer itself. */
  ignoredPid: number
  /** Read cgroup paths from the cgroup v2 hierarchy instead of the v1 pids controller. */
  unifiedCgroup: boolean
}

/** Kernel-side counters, summed over CPUs since the probe was opened. */
export interface ProbeStats {
  /** Records written to the ring. */
  emitted: number
  /** Records lost because the ring was full. */
  ringFull: number
  /** Syscalls lost because too many threads were inside traced syscalls at once. */
  stashFull: number
  /** Argument reads that failed. Their records went out without that argument. */
  readFailed: number
  /** Syscall exits whose entry was not seen, for syscalls already running at attach. */
  exitWithoutEnter: number
  /** 32-bit compat syscalls, which are not traced. */
  compatSkipped: number
  /** Bytes in the ring not read yet. */
  pendingBytes: number
  ringBytes: number
}

export interface BatchResult {
  bytes: number
  records: number
}

/**
 * An open probe. Every method runs synchronously on the calling thread and returns without
 * waiting for the kernel. EbpfSource needs only this interface, so tests pass a fake.
 */
export interface Probe {
  /** Wall-clock nanoseconds at boot; a record's boot-clock stamp plus this is epoch time. */
  readonly bootEpochNs: bigint
  /**
   * Copies whole records back to back into `buffer` until the ring is empty or the next record
   * does not fit. A record that does not fit stays in the ring for the next call. `buffer` must
   * have room for MAX_RECORD_BYTES. Throws an error with code PEREGRINE_SOURCE_FAILED once closed.
   */
  readBatch: (buffer: Uint8Array) => BatchResult
  stats: () => ProbeStats
  /** Detaches the probe and frees its kernel memory. Safe to call more than once. */
  close: () => void
}

export type ProbeOpener = (options: ProbeOptions) => Probe

export type ProbeAvailability = { isAvailable: true } | { isAvailable: false; reason: string }

/** Largest record the probe emits (PG_MAX_RECORD_BYTES). */
export const MAX_RECORD_BYTES = 16384
/** Record layout version this wrapper and the decoder expect (PG_LAYOUT_VERSION). */
export const LAYOUT_VERSION = 1

interface NativeAddon {
  open: (options: ProbeOptions) => Probe
  unavailableReason: () => string
  layoutVersion: number
}

const ADDON_FILE = 'native/build/Release/peregrine_probe.node'
const REASON_FILE = 'native/build/unavailable.txt'

let loaded: { addon: NativeAddon } | { reason: string } | undefined

/**
 * Tells whether the live probe can run in this process, and why not when it cannot. The reasons
 * are: the addon was not built (with the install script's reason), its record layout differs,
 * the kernel has no BTF, or the process lacks CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN).
 */
export function probeAvailability(): ProbeAvailability {
  const result = loadAddon()
  if ('reason' in result) return { isAvailable: false, reason: result.reason }

  const reason = result.addon.unavailableReason()
  return reason === '' ? { isAvailable: true } : { isAvailable: false, reason }
}

/**
 * Loads the eBPF program and starts tracing. Throws PeregrineError PEREGRINE_PROBE_UNAVAILABLE
 * when this host or process cannot run the probe (not retriable: the host must change), and
 * TypeError or RangeError for invalid options.
 */
export function openProbe(options: ProbeOptions): Probe {
  const result = loadAddon()
  if ('reason' in result) {
    throw new PeregrineError(
      'PEREGRINE_PROBE_UNAVAILABLE',
      `opening the eBPF probe failed: ${result.reason}`,
    )
  }

  try {
    return result.addon.open(options)
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) throw error
    const code = (error as { code?: unknown }).code
    const message = `opening the eBPF probe failed: ${(error as Error).message}`
    if (code === 'PEREGRINE_PROBE_UNAVAILABLE') {
      throw new PeregrineError('PEREGRINE_PROBE_UNAVAILABLE', message, { cause: error })
    }
    throw new PeregrineError('PEREGRINE_SOURCE_FAILED', message, { cause: error })
  }
}

function loadAddon(): { addon: NativeAddon } | { reason: string } {
  if (loaded !== undefined) return loaded

  const root = findPackageRoot()
  const addonPath = join(root, ADDON_FILE)
  if (!existsSync(addonPath)) {
    loaded = { reason: readBuildReason(join(root, REASON_FILE)) }
    return loaded
  }

  try {
    const addon = createRequire(import.meta.url)(addonPath) as NativeAddon
    loaded =
      addon.layoutVersion === LAYOUT_VERSION
        ? { addon }
        : {
            reason: `the addon's record layout ${addon.layoutVersion} differs from ${LAYOUT_VERSION}; rebuild it with npm ci`,
          }
  } catch (error) {
    loaded = { reason: `loading ${addonPath} failed: ${(error as Error).message}` }
  }
  return loaded
}

function readBuildReason(path: string): string {
  const notBuilt = 'the native addon is not built'
  if (!existsSync(path))
    return `${notBuilt}; run npm ci on a host with clang, bpftool and libbpf-dev`
  return `${notBuilt}: ${readFileSync(path, 'utf8').trim()}`
}

// The compiled wrapper sits in dist/native/src and the source in native/src; both find the
// package root as the nearest folder above with a package.json.
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir
    const parent = dirname(dir)
    if (parent === dir) return process.cwd()
    dir = parent
  }
}
