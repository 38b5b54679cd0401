import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { ScenarioContext } from './scenario-context.js'

/** Upstream Falco rules files the scenarios are written against. */
export type RulesFileName = 'falco_rules.yaml' | 'falco-incubating_rules.yaml'

/**
 * One harmless action that a rule of Falco's upstream rules files detects. Every action stays in
 * the run's temporary folder, its own child processes and the loopback interface, and undoes
 * what it changes outside the folder.
 */
export interface Scenario {
  /** Name of the upstream rule the action triggers. */
  rule: string
  rulesFile: RulesFileName
  /** One-line description of the action. */
  action: string
  /** True when the action must run inside the stand-in container. */
  needsContainer: boolean
  run: (context: ScenarioContext) => Promise<void>
}

const STABLE: RulesFileName = 'falco_rules.yaml'
const INCUBATING: RulesFileName = 'falco-incubating_rules.yaml'

/** The scenarios, host ones first. */
export const SCENARIOS: readonly Scenario[] = [
  {
    rule: 'Read sensitive file untrusted',
    rulesFile: STABLE,
    action: 'an unknown program opens /etc/shadow read-only and closes it without reading',
    needsContainer: false,
    run: (context) => context.run(context.helper, ['open-read', '/etc/shadow']),
  },
  {
    rule: 'Search Private Keys or Passwords',
    rulesFile: STABLE,
    action: 'grep searches the temporary folder for "BEGIN RSA PRIVATE"',
    needsContainer: false,
    run: async (context) => {
      writeFileSync(join(context.workDir, 'notes.txt'), 'nothing secret here\n')
      // grep exits with 1 when nothing matches, which is the expected outcome.
      await context.run('grep', ['-r', 'BEGIN RSA PRIVATE', context.workDir], { expectedCode: 1 })
    },
  },
  {
    rule: 'Find AWS Credentials',
    rulesFile: STABLE,
    action: 'find looks for .aws/credentials below the temporary folder',
    needsContainer: false,
    run: async (context) => {
      const awsDir = join(context.workDir, '.aws')
      mkdirSync(awsDir)
      writeFileSync(join(awsDir, 'credentials'), '[default]\n')
      await context.run('find', [join(awsDir, 'credentials')])
    },
  },
  {
    rule: 'Clear Log Activities',
    rulesFile: STABLE,
    action: 'a shell truncates a file named auth.log in the temporary folder',
    needsContainer: false,
    run: async (context) => {
      const log = join(context.workDir, 'auth.log')
      writeFileSync(log, 'a log line\n')
      await context.run('/bin/sh', ['-c', ': > "$0"', log])
    },
  },
  {
    rule: 'Remove Bulk Data from Disk',
    rulesFile: STABLE,
    action: 'shred overwrites and removes a file of the temporary folder',
    needsContainer: false,
    run: async (context) => {
      const data = join(context.workDir, 'data.bin')
      writeFileSync(data, randomBytes(4096))
      await context.run('shred', ['-u', data])
    },
  },
  {
    rule: 'Create Symlink Over Sensitive Files',
    rulesFile: STABLE,
    action: 'ln creates a symbolic link to /etc/shadow inside the temporary folder',
    needsContainer: false,
    run: (context) =>
      context.run('ln', ['-s', '/etc/shadow', join(context.workDir, 'shadow-link')]),
  },
  {
    rule: 'Create Hardlink Over Sensitive Files',
    rulesFile: STABLE,
    action: 'ln tries to hard-link /etc/shadow into a missing folder, which fails with ENOENT',
    needsContainer: false,
    // The target folder does not exist, so the call fails and /etc/shadow keeps its link count.
    run: (context) =>
      context.run('ln', ['/etc/shadow', join(context.workDir, 'missing', 'shadow-link')], {
        expectedCode: 1,
      }),
  },
  {
    rule: 'PTRACE attached to process',
    rulesFile: STABLE,
    action: 'the helper attaches to a child of its own with PTRACE_ATTACH, then detaches',
    needsContainer: false,
    run: (context) => context.run(context.helper, ['ptrace-attach']),
  },
  {
    rule: 'PTRACE anti-debug attempt',
    rulesFile: STABLE,
    action: "the helper's child calls PTRACE_TRACEME and exits",
    needsContainer: false,
    run: (context) => context.run(context.helper, ['ptrace-traceme']),
  },
  {
    rule: 'Execution from /dev/shm',
    rulesFile: STABLE,
    action: 'a copy of /bin/true runs from a folder of its own in /dev/shm, removed afterwards',
    needsContainer: false,
    run: async (context) => {
      const dir = join('/dev/shm', `peregrine-scenario-${randomBytes(4).toString('hex')}`)
      mkdirSync(dir)
      try {
        const program = join(dir, 'true')
        copyFileSync('/bin/true', program)
        await context.run(program, [])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  },
  {
    rule: 'Fileless execution via memfd_create',
    rulesFile: STABLE,
    action: 'the helper copies /bin/true into a memfd and executes it from there',
    needsContainer: false,
    run: (context) => context.run(context.helper, ['memfd-exec', '/bin/true']),
  },
  {
    rule: 'Modify Shell Configuration File',
    rulesFile: INCUBATING,
    action: 'touch creates a .bashrc in the temporary folder',
    needsContainer: false,
    run: (context) => context.run('touch', [join(context.workDir, '.bashrc')]),
  },
  {
    rule: 'Delete or rename shell history',
    rulesFile: INCUBATING,
    action: 'rm deletes a .bash_history of the temporary folder',
    needsContainer: false,
    run: async (context) => {
      const history = join(context.workDir, '.bash_history')
      writeFileSync(history, 'ls\n')
      await context.run('rm', [history])
    },
  },
  {
    rule: 'Set Setuid or Setgid bit',
    rulesFile: INCUBATING,
    action: 'chmod sets the setuid bit on a file of the temporary folder',
    needsContainer: false,
    run: async (context) => {
      const tool = join(context.workDir, 'tool')
      writeFileSync(tool, '')
      await context.run('chmod', ['u+s', tool])
    },
  },
  {
    rule: 'Packet socket created in container',
    rulesFile: STABLE,
    action: 'in the stand-in container, the helper opens an AF_PACKET socket and closes it unbound',
    needsContainer: true,
    run: (context) => context.run(context.helper, ['packet-socket'], { inContainer: true }),
  },
  {
    rule: 'Redirect STDOUT/STDIN to Network Connection in Container',
    rulesFile: STABLE,
    action:
      "in the stand-in container, bash points stdout at a TCP connection to the runner's server",
    needsContainer: true,
    run: (context) =>
      context.run(
        '/bin/bash',
        ['-c', `exec 3<>/dev/tcp/127.0.0.1/${context.tcpPort}; exec 1>&3; echo hello`],
        { inContainer: true },
      ),
  },
  {
    rule: 'Read environment variable from /proc files',
    rulesFile: INCUBATING,
    action: 'in the stand-in container, cat reads its own /proc/self/environ',
    needsContainer: true,
    run: (context) => context.run('cat', ['/proc/self/environ'], { inContainer: true }),
  },
  {
    rule: 'Launch Package Management Process in Container',
    rulesFile: INCUBATING,
    action: 'in the stand-in container, dpkg prints its version',
    needsContainer: true,
    run: (context) => context.run('dpkg', ['--version'], { inContainer: true }),
  },
]
