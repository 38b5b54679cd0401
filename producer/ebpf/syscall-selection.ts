import { SYSCALLS } from './syscall-table.js'

/**
 * Syscalls the live source traces whatever the rules read. close keeps the descriptor table from
 * naming a reused descriptor after the file it held before. chdir and fchdir keep the working
 * folder that relative paths are resolved against. connect, accept and accept4 give a socket its
 * addresses, which /proc cannot supply for a descriptor the probe did not see connected. Forks,
 * execs and exits come from scheduler tracepoints, which are always attached.
 */
export const STATE_SYSCALLS: readonly string[] = [
  'accept',
  'accept4',
  'chdir',
  'close',
  'connect',
  'fchdir',
]

export interface SyscallSelection {
  /** Event types to trace, sorted. */
  syscalls: string[]
  /** Event types the rules read that the probe cannot trace, sorted. */
  untraceable: string[]
}

/**
 * Chooses the syscalls to trace for rules that match `ruleEventTypes`: those the probe can trace,
 * plus STATE_SYSCALLS. Null (some rule matches any event type) or undefined (no rules given)
 * selects every syscall the probe supports.
 */
export function selectSyscalls(
  ruleEventTypes: readonly string[] | null | undefined,
): SyscallSelection {
  if (ruleEventTypes === null || ruleEventTypes === undefined) {
    return { syscalls: [...SYSCALLS.keys()].sort(), untraceable: [] }
  }
  const traced = new Set(STATE_SYSCALLS)
  const untraceable: string[] = []
  for (const type of ruleEventTypes) {
    if (SYSCALLS.has(type)) traced.add(type)
    else untraceable.push(type)
  }
  return { syscalls: [...traced].sort(), untraceable: untraceable.sort() }
}
