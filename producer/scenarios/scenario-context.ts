import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'

/**
 * Resources of a scenario. Everything it creates lives in `workDir` or is undone by the runner.
 */
export interface ScenarioContext {
  /** A fresh temporary folder of this run. */
  workDir: string
  /** Path of the compiled scenario-helper program. */
  helper: string
  /** Port of a TCP server the runner listens with on 127.0.0.1. */
  tcpPort: number
  /** The cgroup used in place of a container, or null when none could be created. */
  container: FakeContainer | null
  /** Runs a program to its end; rejects unless it exits with `expectedCode` (default 0). */
  run: (program: string, args: string[], options?: RunOptions) => Promise<void>
}

export interface RunOptions {
  /** Moves the process into the stand-in container before it executes the program. */
  inContainer?: boolean
  expectedCode?: number
  cwd?: string
}

/**
 * A cgroup named like one Docker creates (`docker/<64 hex digits>`), so the probe reports its
 * processes as running in a container with that id. No container runtime is involved. Like a real
 * container's init, a long-lived process stays in the cgroup until removal, so the producer can
 * read the container's user names through it after a short-lived process has exited.
 */
export interface FakeContainer {
  fullId: string
  cgroupDir: string
  init: ChildProcess
  /** The `docker` parent folder when this run created it, so removal takes it away too. */
  createdParent: string | null
}

/** Folders of the cgroup hierarchy the probe reads container ids from, v2 first. */
const CGROUP_ROOTS = ['/sys/fs/cgroup', '/sys/fs/cgroup/pids']

/**
 * Creates the stand-in container's cgroup with its long-lived process, or returns null with
 * nothing created when this host has no writable cgroup hierarchy.
 */
export function createFakeContainer(): FakeContainer | null {
  const root = CGROUP_ROOTS.find((dir) => existsSync(join(dir, 'cgroup.procs')))
  if (root === undefined) return null
  const fullId = randomBytes(32).toString('hex')
  const parent = join(root, 'docker')
  const createdParent = existsSync(parent) ? null : parent
  const cgroupDir = join(parent, fullId)
  try {
    mkdirSync(cgroupDir, { recursive: true })
  } catch {
    // A read-only or delegated hierarchy: the container scenarios are skipped instead.
    return null
  }
  const init = spawn('sleep', ['infinity'], { stdio: 'ignore' })
  writeFileSync(join(cgroupDir, 'cgroup.procs'), String(init.pid))
  return { fullId, cgroupDir, init, createdParent }
}

/** Ends the stand-in container's process and removes its cgroup. */
export async function removeFakeContainer(container: FakeContainer): Promise<void> {
  const { init } = container
  if (init.exitCode === null && init.signalCode === null) {
    const exited = new Promise((resolve) => init.once('exit', resolve))
    init.kill('SIGKILL')
    await exited
  }
  rmdirSync(container.cgroupDir)
  if (container.createdParent === null) return
  try {
    rmdirSync(container.createdParent)
  } catch {
    // Another run's stand-in container is still inside, and that run removes the folder.
  }
}

/**
 * Runs `program` as a child. In the container, a shell waits on stdin until the runner has moved
 * it into the cgroup, then replaces itself with the program, so the program starts inside.
 */
export async function runProgram(
  program: string,
  args: string[],
  container: FakeContainer | null,
  options: RunOptions = {},
): Promise<void> {
  const inContainer = options.inContainer === true
  if (inContainer && container === null) throw new Error('this host has no container cgroup')
  const child = inContainer
    ? spawn('/bin/sh', ['-c', 'read line; exec "$0" "$@"', program, ...args], {
        stdio: ['pipe', 'ignore', 'pipe'],
        cwd: options.cwd,
      })
    : spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: options.cwd })
  const exit = exitOf(child)
  if (inContainer) {
    writeFileSync(join((container as FakeContainer).cgroupDir, 'cgroup.procs'), String(child.pid))
    child.stdin?.end('go\n')
  }

  const { code, stderr } = await exit
  const expectedCode = options.expectedCode ?? 0
  if (code !== expectedCode) {
    throw new Error(
      `${program} ${args.join(' ')} exited with ${code}, expected ${expectedCode}: ${stderr.trim()}`,
    )
  }
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stderr }))
  })
}
