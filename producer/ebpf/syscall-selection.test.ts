import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SYSCALLS } from './syscall-table.js'
import { STATE_SYSCALLS, selectSyscalls } from './syscall-selection.js'

describe('selectSyscalls', () => {
  it('adds the state syscalls to the rule types', () => {
    const selection = selectSyscalls(['execve', 'openat'])

    assert.deepEqual(selection.syscalls, [
      'accept',
      'accept4',
      'chdir',
      'close',
      'connect',
      'execve',
      'fchdir',
      'openat',
    ])
    assert.deepEqual(selection.untraceable, [])
  })

  it('lists rule types the probe cannot trace', () => {
    const selection = selectSyscalls(['openat', 'container', 'procexit'])

    assert.deepEqual(selection.untraceable, ['container', 'procexit'])
    assert.ok(selection.syscalls.includes('openat'))
    assert.ok(!selection.syscalls.includes('container'))
  })

  it('traces everything without a type list', () => {
    assert.equal(selectSyscalls(null).syscalls.length, SYSCALLS.size)
    assert.equal(selectSyscalls(undefined).syscalls.length, SYSCALLS.size)
  })

  it('traces only state syscalls for an empty list', () => {
    assert.deepEqual(selectSyscalls([]).syscalls, [...STATE_SYSCALLS].sort())
  })
})
