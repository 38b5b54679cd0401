import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fileFd, syscallEvent } from './event-fixture.js'
import type { EventOverrides } from './event-fixture.js'
import { resolveField } from './field-table.js'
import type { FieldValue } from './field-table.js'

function valueOf(field: string, overrides: EventOverrides = {}): FieldValue {
  const match = /^([^[]+)(?:\[(.*)\])?$/.exec(field)
  assert.ok(match !== null)
  const resolved = resolveField(match[1], match[2])
  assert.ok(typeof resolved !== 'string', String(resolved))
  return resolved.accessor(syscallEvent(overrides))
}

const inContainer: EventOverrides = { container: {} }

describe('field table', () => {
  it('derives the command lines and parents of the process', () => {
    assert.equal(valueOf('proc.cmdline'), 'cat /etc/hosts')
    assert.equal(valueOf('proc.cmdline', { proc: { args: [] } }), 'cat')
    assert.equal(valueOf('proc.args'), '/etc/hosts')
    assert.equal(valueOf('proc.pname'), 'bash')
    assert.equal(valueOf('proc.pcmdline'), 'bash')
    assert.equal(valueOf('proc.pexepath'), '/usr/bin/bash')
    assert.equal(valueOf('proc.ppid'), 900)
  })

  it('indexes ancestors from the process itself', () => {
    assert.equal(valueOf('proc.aname[0]'), 'cat')
    assert.equal(valueOf('proc.aname[1]'), 'bash')
    assert.equal(valueOf('proc.aname[3]'), 'systemd')
    assert.equal(valueOf('proc.aname[4]'), undefined)
    assert.equal(valueOf('proc.apid[2]'), 800)
    assert.equal(valueOf('proc.acmdline[2]'), 'sshd -D')
    assert.deepEqual(valueOf('proc.aname'), ['bash', 'sshd', 'systemd'])
  })

  it('rejects an ancestor index that is not a number', () => {
    assert.equal(typeof resolveField('proc.aname', 'x'), 'string')
  })

  it('splits file paths into directory and file name', () => {
    const fd = fileFd('/usr/local/bin/tool')

    assert.equal(valueOf('fd.directory', { fd }), '/usr/local/bin')
    assert.equal(valueOf('fd.filename', { fd }), 'tool')
    assert.equal(valueOf('fd.directory', { fd: fileFd('/x') }), '/')
    assert.equal(valueOf('fd.directory', { fd: { type: 'directory', name: '/tmp' } }), '/tmp')
    assert.equal(
      valueOf('fd.filename', { fd: { type: 'ipv4', name: '1.2.3.4:5->6.7.8.9:10' } }),
      undefined,
    )
  })

  it('reads how a file was opened from the flag names', () => {
    const open = (flags: string, mode = '0') =>
      ({ type: 'openat', args: { flags, mode } }) satisfies EventOverrides

    assert.equal(valueOf('evt.is_open_write', open('O_WRONLY|O_CREAT|O_TRUNC')), true)
    assert.equal(valueOf('evt.is_open_read', open('O_WRONLY|O_CREAT')), false)
    assert.equal(valueOf('evt.is_open_read', open('O_RDWR')), true)
    assert.equal(valueOf('evt.is_open_write', open('O_RDWR')), true)
    assert.equal(valueOf('evt.is_open_exec', open('O_WRONLY|O_CREAT', '0755')), true)
    assert.equal(valueOf('evt.is_open_exec', open('O_WRONLY|O_CREAT', '0644')), false)
    assert.equal(valueOf('evt.is_open_write', { type: 'close' }), false)
    assert.equal(valueOf('evt.is_open_write', { type: 'creat', args: {} }), true)
    assert.equal(valueOf('evt.is_open_write', open('577(O_WRONLY|O_CREAT|O_TRUNC)')), true)
  })

  it('prints results, direction and categories like Falco', () => {
    assert.equal(valueOf('evt.res'), 'SUCCESS')
    assert.equal(valueOf('evt.res', { res: -2 }), 'ENOENT')
    assert.equal(valueOf('evt.res', { res: -9999 }), '-9999')
    assert.equal(valueOf('evt.res', { res: null }), undefined)
    assert.equal(valueOf('evt.rawres', { res: -13 }), -13)
    assert.equal(valueOf('evt.failed', { res: -13 }), true)
    assert.equal(valueOf('evt.dir'), '<')
    assert.equal(valueOf('evt.category'), 'file')
    assert.equal(valueOf('evt.category', { type: 'connect' }), 'net')
    assert.equal(valueOf('evt.category', { type: 'execve' }), 'process')
  })

  it('reads event parameters by name and by index', () => {
    assert.equal(valueOf('evt.arg[flags]'), 'O_RDONLY')
    assert.equal(valueOf('evt.arg[0]'), '3')
    assert.equal(valueOf('evt.arg[2]'), '/etc/hosts')
    assert.equal(valueOf('evt.rawarg[flags]'), 1)
    assert.equal(valueOf('evt.rawarg[name]'), '/etc/hosts')
    assert.equal(valueOf('evt.arg[nothing]'), undefined)
    assert.equal(
      valueOf('evt.args'),
      'fd=3 dirfd=-100(AT_FDCWD) name=/etc/hosts flags=O_RDONLY mode=0',
    )
  })

  it('resolves dotted parameter names', () => {
    const resolved = resolveField('evt.arg.flags')

    assert.ok(typeof resolved !== 'string')
    assert.equal(resolved.accessor(syscallEvent()), 'O_RDONLY')
  })

  it('formats event times', () => {
    assert.equal(valueOf('evt.time.iso8601'), '2023-11-14T22:13:20.726060287Z')
    assert.match(String(valueOf('evt.time')), /^\d\d:\d\d:20\.726060287$/)
    assert.equal(valueOf('evt.rawtime.s'), 1700000000)
    assert.equal(valueOf('evt.rawtime.ns'), 726060287)
  })

  it('names the host as a container', () => {
    assert.equal(valueOf('container.id'), 'host')
    assert.equal(valueOf('container.name'), 'host')
    assert.equal(valueOf('container.image.repository'), undefined)
    assert.equal(valueOf('k8s.pod.name'), undefined)
  })

  it('reads container and Kubernetes fields from the container record', () => {
    assert.equal(valueOf('container.id', inContainer), '3ad7b26ded6d')
    assert.equal(valueOf('container.image.repository', inContainer), 'docker.io/library/nginx')
    assert.equal(valueOf('container.privileged', inContainer), false)
    assert.equal(valueOf('k8s.pod.name', inContainer), 'web-7d4b9c')
    assert.equal(valueOf('k8s.ns.name', inContainer), 'shop')
    assert.equal(valueOf('container.label[io.kubernetes.pod.namespace]', inContainer), 'shop')
  })

  it('finds mounts by index or by path glob', () => {
    assert.equal(valueOf('container.mount.dest[/var/lib/kubelet/*]', inContainer), '/data')
    assert.equal(
      valueOf('container.mount.source[/data]', inContainer),
      '/var/lib/kubelet/pods/x/volumes',
    )
    assert.equal(valueOf('container.mount.dest[/proc*]', inContainer), 'N/A')
    assert.equal(
      valueOf('container.mount[0]', inContainer),
      '/var/lib/kubelet/pods/x/volumes:/data:rw:true:rprivate',
    )
    assert.equal(valueOf('container.mount.dest[/proc*]'), undefined)
  })

  it('reads the user, group and environment', () => {
    assert.equal(valueOf('user.name'), 'root')
    assert.equal(valueOf('user.loginname'), 'alice')
    assert.equal(valueOf('group.name'), 'root')
    assert.equal(valueOf('proc.env[HOME]'), '/root')
    assert.equal(valueOf('proc.env[PATH]'), undefined)
    assert.equal(valueOf('user.name', { user: { name: null } }), undefined)
  })

  it('splits socket addresses into local and remote ends', () => {
    const client = {
      type: 'ipv4',
      cip: '10.0.0.1',
      cport: 40000,
      sip: '10.0.0.2',
      sport: 443,
      is_server: false,
    }
    const server = { ...client, is_server: true }

    assert.equal(valueOf('fd.lport', { fd: client }), 40000)
    assert.equal(valueOf('fd.rport', { fd: client }), 443)
    assert.equal(valueOf('fd.lport', { fd: server }), 443)
    assert.equal(valueOf('fd.rip', { fd: server }), '10.0.0.1')
    assert.equal(valueOf('fd.connected', { fd: client }), true)
  })

  it('computes process durations and group leadership', () => {
    assert.equal(valueOf('proc.duration'), 5_000_000_000)
    assert.equal(valueOf('proc.is_vpgid_leader'), true)
    assert.equal(valueOf('proc.is_vpgid_leader', { proc: { vpgid: 1 } }), false)
  })

  it('returns missing for fields SyscallEvent cannot provide', () => {
    for (const field of [
      'fd.name_changed',
      'fd.sip.name',
      'proc.exe_ino.ctime',
      'container.start_ts',
    ]) {
      assert.equal(valueOf(field), undefined, field)
    }
  })

  it('rejects unknown fields and misplaced arguments', () => {
    assert.match(String(resolveField('proc.nothing')), /unknown field/)
    assert.match(String(resolveField('proc.name', '1')), /does not take an argument/)
    assert.match(String(resolveField('evt.arg')), /requires an argument/)
  })
})
