import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type {
  ContainerInfo,
  FileDescriptorInfo,
  ProcessInfo,
  SyscallEvent,
  UserInfo,
} from '../../schemas/types.js'
import { loadRuleSet } from './load-rule-set.js'
import type { LoadRuleSetOptions } from './load-rule-set.js'
import type { RuleSet } from './rule-set.js'

/** Overrides for syscallEvent(): nested records take partial values. */
export interface EventOverrides extends Partial<
  Omit<SyscallEvent, 'proc' | 'user' | 'fd' | 'container'>
> {
  proc?: Partial<ProcessInfo>
  user?: Partial<UserInfo>
  fd?: Partial<FileDescriptorInfo> | null
  container?: Partial<ContainerInfo> | null
}

/** Time of fixture events: 2023-11-14T22:13:20.726060287Z. */
export const FIXTURE_TS_NS = 1_700_000_000_726_060_287n

const temporaryFolders: string[] = []

/**
 * Builds a SyscallEvent for tests: by default a successful `openat` of /etc/hosts for reading by
 * `cat /etc/hosts`, run by root from bash on the host. Nested records merge with the overrides.
 */
export function syscallEvent(overrides: EventOverrides = {}): SyscallEvent {
  const { proc, user, fd, container, ...top } = overrides
  return {
    ts_ns: FIXTURE_TS_NS,
    hostname: 'node-1',
    num: 42,
    type: 'openat',
    source: 'syscall',
    cpu: 1,
    res: 3,
    args: { fd: '3', dirfd: '-100(AT_FDCWD)', name: '/etc/hosts', flags: 'O_RDONLY', mode: '0' },
    raw_args: { fd: '3', dirfd: '-100', name: '/etc/hosts', flags: '1', mode: '0' },
    ancestors: [
      { pid: 900, name: 'bash', exe: 'bash', exepath: '/usr/bin/bash', args: [] },
      { pid: 800, name: 'sshd', exe: '/usr/sbin/sshd', exepath: '/usr/sbin/sshd', args: ['-D'] },
      { pid: 1, name: 'systemd', exe: '/sbin/init', exepath: '/usr/lib/systemd/systemd', args: [] },
    ],
    ...top,
    proc: { ...defaultProcess(), ...proc },
    user: { ...defaultUser(), ...user },
    fd: fd === null ? null : { ...defaultFd(), ...fd },
    container:
      container === null || container === undefined
        ? null
        : { ...defaultContainer(), ...container },
  }
}

/** Builds the fd of a regular file at `path`. */
export function fileFd(path: string, num = 3): Partial<FileDescriptorInfo> {
  return { num, type: 'file', typechar: 'f', name: path }
}

/** Writes rules text to a fresh temporary file and loads it with the given options. */
export function loadRulesText(text: string, options: LoadRuleSetOptions = {}): RuleSet {
  return loadRuleSet([writeRulesFile(text)], options)
}

/** Writes rules text to a fresh temporary file and returns its path. */
export function writeRulesFile(text: string, name = 'rules.yaml'): string {
  const path = join(makeTemporaryFolder(), name)
  writeFileSync(path, text)
  return path
}

/** Creates an empty temporary folder, removed when the process exits. */
export function makeTemporaryFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'peregrine-rules-'))
  if (temporaryFolders.length === 0) {
    process.on('exit', () => {
      for (const created of temporaryFolders) rmSync(created, { recursive: true, force: true })
    })
  }
  temporaryFolders.push(folder)
  return folder
}

function defaultProcess(): ProcessInfo {
  return {
    pid: 1000,
    tid: 1000,
    vpid: 1000,
    vtid: 1000,
    ppid: 900,
    name: 'cat',
    exe: 'cat',
    exepath: '/usr/bin/cat',
    args: ['/etc/hosts'],
    cwd: '/root/',
    tty: 34816,
    sid: 900,
    sname: 'bash',
    vpgid: 1000,
    loginshell_id: 900,
    env: ['HOME=/root', 'TERM=xterm'],
    is_exe_writable: false,
    is_exe_upper_layer: false,
    is_exe_from_memfd: false,
    exe_ino: 1234,
    start_ts_ns: FIXTURE_TS_NS - 5_000_000_000n,
    cap_permitted: 'CAP_CHOWN CAP_SYS_ADMIN',
    cap_effective: 'CAP_CHOWN CAP_SYS_ADMIN',
    cap_inheritable: '',
  }
}

function defaultUser(): UserInfo {
  return {
    uid: 0,
    name: 'root',
    homedir: '/root',
    shell: '/bin/bash',
    loginuid: 1000,
    loginname: 'alice',
    gid: 0,
    group_name: 'root',
  }
}

function defaultFd(): FileDescriptorInfo {
  return {
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
  }
}

function defaultContainer(): ContainerInfo {
  return {
    id: '3ad7b26ded6d',
    full_id: '3ad7b26ded6d8e7e23da8a1d0dbd8ff7e1f62a7d4c1bd3e6a0f7c2bb5e9d1a00',
    name: 'web',
    type: 'containerd',
    image: 'docker.io/library/nginx:1.25',
    image_id: 'sha256:a8758716bb6a',
    image_repository: 'docker.io/library/nginx',
    image_tag: '1.25',
    image_digest: 'sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31',
    privileged: false,
    ip: '10.1.0.12',
    labels: {
      'io.kubernetes.pod.name': 'web-7d4b9c',
      'io.kubernetes.pod.namespace': 'shop',
    },
    mounts: [
      {
        source: '/var/lib/kubelet/pods/x/volumes',
        dest: '/data',
        mode: 'rw',
        rdwr: true,
        propagation: 'rprivate',
      },
    ],
  }
}
