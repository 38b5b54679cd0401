import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { encodeExec, encodeFork, encodeSyscall, stringBlob } from './fake-probe.js'
import { decodeRecords } from './record-decoder.js'
import type { DecodeProblems, ExecRecord, ForkRecord, SyscallRecord } from './record-decoder.js'

const OPENAT = 257

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

describe('decodeRecords', () => {
  it('decodes a syscall record with its header, args and blobs', () => {
    const bytes = encodeSyscall(
      { pid: 10, tid: 11, uid: 1000, gid: 100, cpu: 1, tsNs: 42n },
      OPENAT,
      3,
      [-100, 0x7ffd0000, 0o1101, 0o644],
      { 1: stringBlob('/tmp/x') },
    )

    const [record] = decodeRecords(bytes, bytes.length) as SyscallRecord[]

    assert.equal(record.kind, 'syscall')
    assert.equal(record.tsNs, 42n)
    assert.equal(record.pid, 10)
    assert.equal(record.tid, 11)
    assert.equal(record.uid, 1000)
    assert.equal(record.gid, 100)
    assert.equal(record.cpu, 1)
    assert.equal(record.nr, OPENAT)
    assert.equal(record.res, 3)
    assert.deepEqual(record.args, [-100, 0x7ffd0000, 0o1101, 0o644, 0, 0])
    assert.equal(Buffer.from(record.blobs[1] as Uint8Array).toString(), '/tmp/x\0')
    assert.equal(record.blobs[0], null)
    assert.equal(record.blobs[6], null)
  })

  it('keeps negative return values', () => {
    const bytes = encodeSyscall({ pid: 1 }, OPENAT, -2, [])

    const [record] = decodeRecords(bytes, bytes.length) as SyscallRecord[]

    assert.equal(record.res, -2)
  })

  it('decodes exec argv, env and cgroup path', () => {
    const bytes = encodeExec(
      { pid: 20, uid: 0 },
      {
        ppid: 10,
        comm: 'cat',
        filename: '/usr/bin/cat',
        argv: ['cat', '/etc/hosts'],
        env: ['HOME=/root', 'PATH=/bin'],
        cgroup: '/docker/abc',
        loginUid: 1000,
        capEffective: 0x3n,
      },
    )

    const [record] = decodeRecords(bytes, bytes.length) as ExecRecord[]

    assert.equal(record.kind, 'exec')
    assert.equal(record.comm, 'cat')
    assert.equal(record.ppid, 10)
    assert.equal(record.filename, '/usr/bin/cat')
    assert.deepEqual(record.argv, ['cat', '/etc/hosts'])
    assert.deepEqual(record.env, ['HOME=/root', 'PATH=/bin'])
    assert.equal(record.cgroup, '/docker/abc')
    assert.equal(record.loginUid, 1000)
    assert.equal(record.capEffective, 3n)
  })

  it('reads an unset login uid as null', () => {
    const bytes = encodeExec(
      { pid: 20 },
      { ppid: 1, comm: 'sh', filename: '/bin/sh', argv: ['sh'] },
    )

    const [record] = decodeRecords(bytes, bytes.length) as ExecRecord[]

    assert.equal(record.loginUid, null)
  })

  it('decodes records back to back', () => {
    const bytes = concat(
      encodeFork({ pid: 5 }, { pid: 6, isThread: false }),
      encodeSyscall({ pid: 6 }, 3, 0, [4]),
    )

    const records = decodeRecords(bytes, bytes.length)

    assert.deepEqual(
      records.map((record) => record.kind),
      ['fork', 'syscall'],
    )
    assert.equal((records[0] as ForkRecord).childPid, 6)
    assert.equal((records[0] as ForkRecord).isThread, false)
  })

  it('stops at a truncated record and counts it', () => {
    const whole = encodeSyscall({ pid: 6 }, 3, 0, [4])
    const bytes = concat(whole, whole.subarray(0, 60))
    const problems: DecodeProblems = { unknownKind: 0, truncated: 0 }

    const records = decodeRecords(bytes, bytes.length, problems)

    assert.equal(records.length, 1)
    assert.equal(problems.truncated, 1)
  })

  it('skips a record of unknown kind and counts it', () => {
    const unknown = encodeSyscall({ pid: 6 }, 3, 0, [4])
    new DataView(unknown.buffer).setUint16(12, 99, true)
    const bytes = concat(unknown, encodeSyscall({ pid: 6 }, 3, 0, [5]))
    const problems: DecodeProblems = { unknownKind: 0, truncated: 0 }

    const records = decodeRecords(bytes, bytes.length, problems)

    assert.equal(records.length, 1)
    assert.equal(problems.unknownKind, 1)
  })
})
