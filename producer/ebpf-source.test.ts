import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { PeregrineError } from '../core/errors.js'
import { EbpfSource } from './ebpf-source.js'
import {
  FakeProbe,
  encodeExec,
  encodeExit,
  encodeFork,
  encodeSyscall,
  fileInfoBlob,
  ipv4SockaddrBlob,
  ipv4SocketBlob,
  stringBlob,
} from './ebpf/fake-probe.js'
import { SYSCALLS } from './ebpf/syscall-table.js'
import { fakeProcReader } from './state/fake-proc-reader.js'
import type { SyscallEvent } from '../schemas/types.js'

const AT_FDCWD = -100
const O_WRONLY_CREAT = 0o101
const CONTAINER_ID = 'c0ffee'.repeat(10) + 'abcd'

function nr(name: string): number {
  return (SYSCALLS.get(name) as { nr: number }).nr
}

function makeSource(probe: FakeProbe) {
  return new EbpfSource({
    hostname: 'node-1',
    openProbe: probe.opener(),
    pollIntervalMs: 1,
    procReader: fakeProcReader([
      { pid: 1, ppid: 0, comm: 'systemd', argv: ['/sbin/init'] },
      { pid: 100, ppid: 1, comm: 'bash', cwd: '/home/alice', uid: 1000 },
    ]),
  })
}

/** Runs the source until `count` events arrived, then aborts it. */
async function collect(source: EbpfSource, count: number): Promise<SyscallEvent[]> {
  const controller = new AbortController()
  const events: SyscallEvent[] = []
  for await (const event of source.events(controller.signal)) {
    events.push(event)
    if (events.length === count) controller.abort()
  }
  return events
}

describe('EbpfSource', () => {
  it('builds events with process, parent, file and socket fields', async () => {
    const probe = new FakeProbe()
    probe.push(
      encodeFork({ pid: 100 }, { pid: 200 }),
      encodeExec(
        { pid: 200, uid: 1000, gid: 1000 },
        { ppid: 100, comm: 'cat', filename: '/usr/bin/cat', argv: ['cat', 'notes'] },
      ),
      encodeSyscall({ pid: 200, uid: 1000, gid: 1000 }, nr('execve'), 0, [0, 0, 0]),
      encodeSyscall(
        { pid: 200, uid: 1000 },
        nr('openat'),
        3,
        [AT_FDCWD, 0, O_WRONLY_CREAT, 0o644],
        {
          1: stringBlob('notes'),
          6: fileInfoBlob(1234, 0o100644, true),
        },
      ),
      encodeSyscall({ pid: 200, uid: 1000 }, nr('connect'), 0, [4, 0, 16], {
        0: ipv4SocketBlob(['10.0.0.5', 40000], ['10.0.0.9', 443]),
        1: ipv4SockaddrBlob('10.0.0.9', 443),
      }),
      encodeSyscall({ pid: 200, uid: 1000 }, nr('close'), 0, [3]),
      encodeExit({ pid: 200 }),
    )
    const source = makeSource(probe)

    const [execve, openat, connect, close] = await collect(source, 4)

    assert.equal(execve.type, 'execve')
    assert.equal(execve.hostname, 'node-1')
    assert.equal(execve.proc.name, 'cat')
    assert.equal(execve.proc.pid, 200)
    assert.equal(execve.proc.ppid, 100)
    assert.deepEqual(execve.proc.args, ['notes'])
    assert.equal(execve.proc.exepath, '/usr/bin/cat')
    assert.equal(execve.proc.cwd, '/home/alice')
    assert.equal(execve.args.filename, '/usr/bin/cat')
    assert.deepEqual(
      execve.ancestors.map((ancestor) => ancestor.name),
      ['bash', 'systemd'],
    )
    assert.equal(execve.proc.loginshell_id, 100)
    assert.equal(execve.user.uid, 1000)

    assert.equal(openat.type, 'openat')
    assert.equal(openat.fd?.name, '/home/alice/notes')
    assert.equal(openat.fd?.num, 3)
    assert.equal(openat.fd?.typechar, 'f')
    assert.equal(openat.fd?.ino, 1234)
    assert.equal(openat.args.flags, 'O_WRONLY|O_CREAT|O_F_CREATED')
    assert.equal(openat.raw_args.name, 'notes')
    assert.equal(openat.args.mode, 'S_IROTH|S_IRGRP|S_IWUSR|S_IRUSR')

    assert.equal(connect.fd?.name, '10.0.0.5:40000->10.0.0.9:443')
    assert.equal(connect.fd?.sip, '10.0.0.9')
    assert.equal(connect.fd?.sport, 443)
    assert.equal(connect.fd?.cip, '10.0.0.5')
    assert.equal(connect.fd?.l4proto, 'tcp')
    assert.equal(connect.fd?.is_server, false)
    assert.equal(connect.args.addr, '10.0.0.9:443')

    assert.equal(close.fd?.name, '/home/alice/notes')
  })

  it('announces a container before its first event', async () => {
    const probe = new FakeProbe()
    probe.push(
      encodeExec(
        { pid: 300 },
        {
          ppid: 100,
          comm: 'sh',
          filename: '/bin/sh',
          argv: ['sh'],
          cgroup: `/docker/${CONTAINER_ID}`,
        },
      ),
      encodeSyscall({ pid: 300 }, nr('execve'), 0, [0, 0, 0]),
      encodeSyscall({ pid: 300 }, nr('chdir'), 0, [0], { 0: stringBlob('/etc') }),
    )
    const source = makeSource(probe)

    const [announcement, execve, chdir] = await collect(source, 3)

    assert.equal(announcement.type, 'container')
    assert.equal(announcement.container?.id, CONTAINER_ID.slice(0, 12))
    assert.equal(announcement.container?.type, 'docker')
    assert.equal(execve.container?.full_id, CONTAINER_ID)
    assert.equal(chdir.container?.id, CONTAINER_ID.slice(0, 12))
    assert.ok(Number(announcement.num) < Number(execve.num))
  })

  it('renders setuid targets as user names when known', async () => {
    const probe = new FakeProbe()
    probe.push(encodeSyscall({ pid: 100 }, nr('setuid'), 0, [0]))
    const source = makeSource(probe)

    const [event] = await collect(source, 1)

    assert.equal(event.type, 'setuid')
    assert.ok(event.args.uid === 'root' || event.args.uid === '0')
    assert.equal(event.raw_args.uid, '0')
  })

  it('reports kernel drops and skipped records in stats', async () => {
    const probe = new FakeProbe()
    probe.counters.ringFull = 7
    probe.counters.stashFull = 2
    probe.push(
      encodeFork({ pid: 100 }, { pid: 201 }),
      encodeSyscall({ pid: 201 }, nr('close'), 0, [9]),
    )
    const source = makeSource(probe)

    await collect(source, 1)
    const stats = source.stats()

    assert.equal(stats.eventsRead, 1)
    assert.equal(stats.dropped.ring_full, 7)
    assert.equal(stats.dropped.stash_full, 2)
    assert.equal(stats.skipped.fork, 1)
  })

  it('passes the traced syscalls and its own pid to the probe', async () => {
    const probe = new FakeProbe()
    probe.push(encodeSyscall({ pid: 100 }, nr('close'), 0, [9]))
    const source = new EbpfSource({
      openProbe: probe.opener(),
      syscalls: ['close', 'openat'],
      procReader: fakeProcReader([]),
    })

    await collect(source, 1)

    assert.deepEqual(
      probe.openedWith?.syscalls.map((spec) => spec.nr),
      [nr('close'), nr('openat')],
    )
    assert.equal(probe.openedWith?.ignoredPid, process.pid)
  })

  it('closes the probe when the consumer aborts', async () => {
    const probe = new FakeProbe()
    const source = makeSource(probe)
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 20)

    for await (const event of source.events(controller.signal))
      assert.fail(`unexpected ${event.type}`)

    assert.equal(probe.isClosed, true)
    await source.close()
  })

  it('rethrows an unavailable probe with its code', async () => {
    const source = new EbpfSource({
      openProbe: () => {
        throw new PeregrineError('PEREGRINE_PROBE_UNAVAILABLE', 'no BTF')
      },
      procReader: fakeProcReader([]),
    })

    await assert.rejects(collect(source, 1), { code: 'PEREGRINE_PROBE_UNAVAILABLE' })
  })
})
