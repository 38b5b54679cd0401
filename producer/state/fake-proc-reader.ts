import type { ProcReader, ProcSnapshot } from './proc-reader.js'

/** Creates a ProcReader over in-memory snapshots, for tests that run without /proc. */
export function fakeProcReader(
  snapshots: Array<Partial<ProcSnapshot> & { pid: number }>,
  fdTargets: Record<string, string> = {},
): ProcReader {
  const byPid = new Map(snapshots.map((partial) => [partial.pid, snapshot(partial)]))
  return {
    listPids: () => [...byPid.keys()],
    readProcess: (pid) => byPid.get(pid) ?? null,
    readFdTarget: (pid, fd) => fdTargets[`${pid}/${fd}`] ?? null,
    rootPath: () => '/nonexistent-root',
  }
}

/** Fills a snapshot with the values of a plain root shell process. */
export function snapshot(partial: Partial<ProcSnapshot> & { pid: number }): ProcSnapshot {
  return {
    ppid: 1,
    comm: 'bash',
    argv: ['bash'],
    env: [],
    exePath: '/usr/bin/bash',
    cwd: '/root',
    uid: 0,
    gid: 0,
    loginUid: null,
    sid: partial.pid,
    pgid: partial.pid,
    tty: 0,
    vpid: partial.pid,
    startBootNs: 0n,
    capPermitted: null,
    capEffective: null,
    capInheritable: null,
    exe: null,
    cgroups: [],
    ...partial,
  }
}
