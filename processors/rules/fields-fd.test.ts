import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileCondition } from './condition-compiler.js'
import { parseCondition } from './condition-parser.js'
import { fileFd, syscallEvent } from './event-fixture.js'
import type { EventOverrides } from './event-fixture.js'
import { resolveField } from './field-table.js'
import type { FieldValue } from './field-table.js'

function valueOf(field: string, overrides: EventOverrides): FieldValue {
  const resolved = resolveField(field)
  assert.ok(typeof resolved !== 'string', String(resolved))
  return resolved.accessor(syscallEvent(overrides))
}

function matches(condition: string, overrides: EventOverrides): boolean {
  return compileCondition(parseCondition(condition), () => {})(syscallEvent(overrides))
}

const unixSocket: EventOverrides = {
  fd: { num: 5, type: 'unix', typechar: 'u', name: '/var/run/docker.sock', cport: 0 },
}
const newSocket: EventOverrides = { type: 'socket', fd: { num: 4, type: 'ipv4', typechar: '4' } }
const listening: EventOverrides = {
  type: 'listen',
  fd: {
    num: 3,
    type: 'ipv6',
    typechar: '6',
    sip: '2001:db8::3',
    sport: 1234,
    cport: 0,
    is_server: true,
  },
}
const connected: EventOverrides = {
  type: 'connect',
  fd: {
    num: 3,
    type: 'ipv4',
    typechar: '4',
    cip: '10.0.0.5',
    cport: 40000,
    sip: '203.0.113.7',
    sport: 443,
    is_server: false,
  },
}

describe('fd fields', () => {
  it('split paths as libsinsp does', () => {
    assert.equal(valueOf('fd.directory', { fd: fileFd('/etc/passwd') }), '/etc')
    assert.equal(valueOf('fd.directory', { fd: fileFd('/passwd') }), '/')
    assert.equal(valueOf('fd.directory', { fd: fileFd('passwd') }), '/')
    assert.equal(valueOf('fd.directory', { fd: fileFd('/etc/ssh/') }), '/etc/ssh/')
    assert.equal(valueOf('fd.filename', { fd: fileFd('/etc/passwd') }), 'passwd')
    assert.equal(valueOf('fd.filename', { fd: fileFd('passwd') }), '/')
  })

  it('have no directory for descriptors other than files', () => {
    assert.equal(valueOf('fd.directory', { fd: { type: '', typechar: 'o', name: '' } }), undefined)
    assert.equal(valueOf('fd.directory', unixSocket), undefined)
  })

  it('have no addresses or ports on unix sockets', () => {
    assert.equal(valueOf('fd.cport', unixSocket), undefined)
    assert.equal(valueOf('fd.port', unixSocket), undefined)
    assert.equal(matches('fd.port in (0, 53)', unixSocket), false)
  })

  it('read the zero address and port of a socket without addresses', () => {
    assert.deepEqual(valueOf('fd.ip', newSocket), ['0.0.0.0', '0.0.0.0'])
    assert.deepEqual(valueOf('fd.port', newSocket), [0, 0])
    assert.equal(matches('fd.ip = 0.0.0.0', newSocket), true)
  })

  it('read only the server end of a listening socket', () => {
    assert.deepEqual(valueOf('fd.port', listening), [1234])
    assert.equal(matches('fd.port in (0, 53)', listening), false)
  })

  it('take != on both ends of a connection', () => {
    assert.equal(matches('fd.ip != 10.0.0.5', connected), false)
    assert.equal(matches('fd.ip != 192.0.2.1', connected), true)
    assert.equal(matches('fd.port != 443', connected), false)
    assert.equal(matches('fd.net != "10.0.0.0/8"', connected), false)
    assert.equal(matches('fd.ip = 203.0.113.7', connected), true)
  })
})
