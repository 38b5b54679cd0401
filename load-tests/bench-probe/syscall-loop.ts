/**
 * Builds and runs the syscall loop (syscall-loop.c) that the probe benchmarks use as a load.
 */
import { execFile, spawn } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { PROJECT_ROOT } from '../../schemas/index.js'

const LOOP_SOURCE = join(PROJECT_ROOT, 'load-tests', 'bench-probe', 'syscall-loop.c')
/** File the open-close mode opens. */
export const OPENED_FILE = '/etc/hostname'

export interface LoopResult {
  operations: number
  seconds: number
}

export interface RunningLoop {
  pid: number
  done: Promise<LoopResult>
}

/** Compiles the loop with `cc -O2` into `workDir` and returns the program's path. */
export async function buildLoop(workDir: string): Promise<string> {
  const program = join(workDir, 'syscall-loop')
  await promisify(execFile)('cc', ['-O2', '-o', program, LOOP_SOURCE])
  return program
}

/**
 * Starts the loop in `mode` (open-close or getppid) for `seconds`, at most `rate` operations per
 * second (0: as fast as it can). `done` resolves with the operations it completed.
 */
export function startLoop(
  program: string,
  mode: string,
  seconds: number,
  rate: number,
): RunningLoop {
  const args = [mode, String(seconds), String(rate)]
  if (mode === 'open-close') args.push(OPENED_FILE)
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const done = new Promise<LoopResult>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`${program} ${args.join(' ')} exited with ${code}`))
      const [operations, elapsed] = output.trim().split(' ').map(Number)
      resolve({ operations, seconds: elapsed })
    })
  })
  return { pid: child.pid as number, done }
}
