import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { fdEntry } from './fd-table.js'
import { fakeProcReader } from './fake-proc-reader.js'
import { ProcessTable } from './process-table.js'
import type { ProcSnapshot } from './proc-reader.js'
import type { CgroupRecord, ExecRecord, ExitRecord, ForkRecord } from '../ebpf/record-decoder.js'

const ID = 'a'.repeat(64)
const header = { tsNs: 0n, cpu: 0, tid: 0, uid: 0, gid: 0 }

function table(snapshots: Array<Partial<ProcSnapshot> & { pid: number }>, maxProcesses = 100) {
  return new ProcessTable({
    procReader: fakeProcReader(snapshots),
    maxProcesses,
    maxFdsPerProcess: 8,
    bootEpochNs: 1_000_000_000n,
  })
}

function fork(pid: number, childPid: number, isThread = false): ForkRecord {
  return {
    kind: 'fork',
    ...header,
    pid,
    childPid,
    childTid: childPid,
    childPpid: pid,
    isThread,
    childStartNs: 5n,
    childVpid: childPid,
    childVtid: childPid,
  }
}

function exec(pid: number, fields: Partial<ExecRecord> = {}): ExecRecord {
  return {
    kind: 'exec',
    ...header,
    pid,
    tid: pid,
    uid: 1000,
    gid: 1000,
    oldTid: pid,
    ppid: 1,
    loginUid: 1000,
    sid: pid,
    pgid: pid,
    tty: 34816,
    vpid: pid,
    exeDev: 0,
    startNs: 7n,
    capPermitted: 0n,
    capEffective: 0n,
    capInheritable: 0n,
    exeIno: 99,
    exeUid: 0,
    exeGid: 0,
    exeMode: 0o100755,
    isExeFromMemfd: false,
    comm: 'cat',
    filename: '/usr/bin/cat',
    argv: ['cat', '/etc/shadow'],
    env: ['A=1'],
    cgroup: '/',
    ...fields,
  }
}

describe('ProcessTable', () => {
  it('seeds every process from /proc', () => {
    const processes = table([
      { pid: 1, comm: 'init' },
      { pid: 2, ppid: 1 },
    ])

    const added = processes.seed()

    assert.equal(added, 2)
    assert.equal(processes.get(1).name, 'init')
    assert.equal(processes.get(2).ppid, 1)
  })

  it('reads a process it has not seen from /proc on first use', () => {
    const processes = table([{ pid: 42, comm: 'nginx' }])

    assert.equal(processes.get(42).name, 'nginx')
    assert.equal(processes.size, 1)
  })

  it('marks a process missing from /proc as a placeholder', () => {
    const processes = table([])

    const entry = processes.get(7)

    assert.equal(entry.isPlaceholder, true)
    assert.equal(entry.name, '<NA>')
  })

  it('copies the parent into a forked child with its descriptors', () => {
    const processes = table([{ pid: 10, comm: 'bash', cwd: '/srv' }])
    processes.get(10).fds.set(3, fdEntry('file', '/srv/log'))

    const child = processes.applyFork(fork(10, 11))

    assert.equal(child?.name, 'bash')
    assert.equal(child?.ppid, 10)
    assert.equal(child?.cwd, '/srv')
    assert.equal(child?.fds.get(3)?.name, '/srv/log')
    assert.equal(child?.startNs, 1_000_000_005n)
  })

  it('keeps a new thread inside its process', () => {
    const processes = table([{ pid: 10 }])
    processes.seed()

    assert.equal(processes.applyFork(fork(10, 12, true)), null)
    assert.equal(processes.size, 1)
  })

  it('replaces the image on exec and resolves a relative path', () => {
    const processes = table([{ pid: 10, cwd: '/opt/app' }])

    const { entry } = processes.applyExec(exec(10, { filename: 'bin/run', argv: ['run', '-x'] }))

    assert.equal(entry.name, 'cat')
    assert.equal(entry.exe, 'run')
    assert.deepEqual(entry.args, ['-x'])
    assert.equal(entry.exepath, '/opt/app/bin/run')
    assert.equal(entry.loginUid, 1000)
    assert.equal(entry.tty, 34816)
  })

  it('reports a container first seen on exec', () => {
    const processes = table([{ pid: 10 }])

    const first = processes.applyExec(exec(10, { cgroup: `/docker/${ID}` }))
    const second = processes.applyExec(exec(10, { cgroup: `/docker/${ID}` }))

    assert.equal(first.isNewContainer, true)
    assert.equal(first.entry.container?.id, ID.slice(0, 12))
    assert.equal(second.isNewContainer, false)
  })

  it('moves a process into the container of a cgroup record', () => {
    const processes = table([{ pid: 10 }])
    const record: CgroupRecord = {
      kind: 'cgroup',
      ...header,
      pid: 1,
      targetPid: 10,
      targetTid: 10,
      hierarchyId: 3,
      isThreadGroup: true,
      path: `/system.slice/docker-${ID}.scope`,
    }

    const moved = processes.applyCgroup(record)

    assert.equal(moved?.container?.fullId, ID)
    assert.equal(processes.applyCgroup(record), null)
  })

  it('forgets a process when its last thread exits', () => {
    const processes = table([{ pid: 10 }])
    processes.seed()
    const exit: ExitRecord = { kind: 'exit', ...header, pid: 10, exitCode: 0, isGroupDead: false }

    processes.applyExit(exit)
    assert.equal(processes.size, 1)
    processes.applyExit({ ...exit, isGroupDead: true })

    assert.equal(processes.size, 0)
  })

  it('evicts the oldest process past its capacity', () => {
    const processes = table([{ pid: 1 }, { pid: 2 }, { pid: 3 }], 2)

    processes.seed()

    assert.equal(processes.size, 2)
    assert.equal(processes.peek(1), undefined)
  })

  it('lists ancestors parent first up to the depth limit', () => {
    const processes = table([
      { pid: 1, ppid: 0, comm: 'systemd' },
      { pid: 2, ppid: 1, comm: 'sshd' },
      { pid: 3, ppid: 2, comm: 'bash' },
      { pid: 4, ppid: 3, comm: 'vim' },
    ])
    processes.seed()

    const names = processes.ancestors(processes.get(4), 2).map((entry) => entry.name)

    assert.deepEqual(names, ['bash', 'sshd'])
    assert.equal(processes.ancestors(processes.get(4), 10).length, 3)
  })
})
