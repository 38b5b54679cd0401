import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'

import { ArgKind, MAX_RECORD_BYTES, ResKind, openProbe, probeAvailability } from './index.js'
import type { ProbeOptions } from './index.js'

const OPENAT = 257
const availability = probeAvailability()
const skip = availability.isAvailable ? false : `eBPF probe unavailable: ${availability.reason}`

const options: ProbeOptions = {
  ringBytes: 1 << 20,
  ignoredPid: process.pid,
  unifiedCgroup: false,
  syscalls: [
    {
      nr: OPENAT,
      argKinds: [ArgKind.value, ArgKind.string, ArgKind.value, ArgKind.value, 0, 0],
      lenArgs: [0, 0, 0, 0, 0, 0],
      resKind: ResKind.file,
      flags: 0,
    },
  ],
}

describe('probeAvailability', () => {
  it('gives a reason whenever the probe cannot run', () => {
    if (availability.isAvailable) return
    assert.ok(availability.reason.length > 0)
  })
})

describe('openProbe', { skip }, () => {
  it('rejects a ring size that is not a power of two', () => {
    assert.throws(() => openProbe({ ...options, ringBytes: 100_000 }), RangeError)
  })

  it('rejects a batch buffer smaller than one record', () => {
    const probe = openProbe(options)
    try {
      assert.throws(() => probe.readBatch(new Uint8Array(100)), RangeError)
    } finally {
      probe.close()
    }
  })

  it('reads openat records of a child process', () => {
    const probe = openProbe(options)
    const buffer = new Uint8Array(1 << 20)
    try {
      spawnSync('/bin/cat', ['/etc/hostname'])

      const batch = probe.readBatch(buffer)
      const text = Buffer.from(buffer.subarray(0, batch.bytes)).toString('latin1')

      assert.ok(batch.records > 0)
      assert.ok(text.includes('/etc/hostname'))
      assert.ok(probe.stats().emitted >= batch.records)
      assert.equal(probe.stats().ringFull, 0)
    } finally {
      probe.close()
    }
  })

  it('closes more than once and rejects reads after close', () => {
    const probe = openProbe(options)

    probe.close()
    probe.close()

    assert.throws(() => probe.readBatch(new Uint8Array(MAX_RECORD_BYTES)), {
      code: 'PEREGRINE_SOURCE_FAILED',
    })
  })
})
