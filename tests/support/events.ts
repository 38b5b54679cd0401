import type { ProcessInfo, SyscallEvent, UserInfo } from '../../schemas/types.js'

export interface EventOverrides extends Partial<Omit<SyscallEvent, 'proc' | 'user'>> {
  proc?: Partial<ProcessInfo>
  user?: Partial<UserInfo>
}

/** Builds a complete, schema-valid SyscallEvent (an openat by `cat` on the host) with parts replaced. */
export function sampleEvent(overrides: EventOverrides = {}): SyscallEvent {
  const { proc, user, ...rest } = overrides
  return {
    ts_ns: 1796378400000000000n,
    hostname: 'test-host',
    num: 1,
    type: 'openat',
    source: 'syscall',
    cpu: 0,
    res: 3,
    args: {
      fd: '3(<f>/etc/hosts)',
      dirfd: '-100(AT_FDCWD)',
      name: '/etc/hosts',
      flags: 'O_RDONLY|O_CLOEXEC',
      mode: '0',
    },
    raw_args: { fd: '3', dirfd: '-100', name: '/etc/hosts', flags: '524288', mode: '0' },
    proc: {
      pid: 100,
      tid: 100,
      vpid: 100,
      vtid: 100,
      ppid: 1,
      name: 'cat',
      exe: 'cat',
      exepath: '/usr/bin/cat',
      args: ['/etc/hosts'],
      cwd: '/root/',
      tty: 0,
      sid: 1,
      sname: 'systemd',
      vpgid: 100,
      loginshell_id: null,
      env: ['PATH=/usr/bin'],
      is_exe_writable: false,
      is_exe_upper_layer: false,
      is_exe_from_memfd: false,
      exe_ino: 1234,
      start_ts_ns: 1796378399000000000n,
      cap_permitted: null,
      cap_effective: null,
      cap_inheritable: null,
      ...proc,
    },
    ancestors: [
      { pid: 1, name: 'systemd', exe: '/sbin/init', exepath: '/usr/lib/systemd/systemd', args: [] },
    ],
    user: {
      uid: 0,
      name: 'root',
      homedir: '/root',
      shell: '/bin/bash',
      loginuid: -1,
      loginname: null,
      gid: 0,
      group_name: 'root',
      ...user,
    },
    fd: {
      num: 3,
      type: 'file',
      typechar: 'f',
      name: '/etc/hosts',
      ino: 5678,
      dev: 2049,
      l4proto: null,
      sockfamily: null,
      cip: null,
      cport: null,
      sip: null,
      sport: null,
      is_server: null,
    },
    container: null,
    ...rest,
  }
}
