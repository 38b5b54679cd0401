/**
 * The test command (`npm test`): starts the local stack on ports of its own, runs every unit and
 * integration test against it with Node's test runner, then stops the stack it started. A stack
 * already running on those ports (left by `--keep-stack`) is reused and left running.
 *
 * Usage: node dist/tests/run-tests.js [--keep-stack] [--only PATTERN]
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadPeregrineConfig } from '../core/peregrine-config.js'
import { createLogger } from '../core/logger.js'
import { PROJECT_ROOT } from '../schemas/index.js'
import { startLocalStack, stopLocalStack } from '../stack/local-stack.js'

/**
 * Ports and folder of the test stack, away from the defaults a developer's own stack uses. The
 * same PEREGRINE_STACK_* variables in the environment take precedence, to move the test stack
 * when these ports are taken.
 */
const TEST_STACK = {
  PEREGRINE_STACK_KAFKA_PORT: '39092',
  PEREGRINE_STACK_CONTROLLER_PORT: '39093',
  PEREGRINE_STACK_REGISTRY_PORT: '38081',
  PEREGRINE_STACK_DATA_DIR: join(PROJECT_ROOT, '.peregrine', 'test-stack'),
}

/** Maximum run time of one top-level suite. The slowest, the pipeline suite, takes under 1 min. */
const SUITE_TIMEOUT_MS = 5 * 60_000

/** Maximum run time of all tests, so a hang fails CI well inside its 30-minute budget. */
const RUN_TIMEOUT_MS = 15 * 60_000

/** Compiled test folders, unit tests first. */
const TEST_FOLDERS = [
  'core',
  'schemas',
  'producer',
  'processors',
  'sinks',
  'stack',
  'native',
  'cli',
  'tests',
]

async function main(): Promise<number> {
  const keepStack = process.argv.includes('--keep-stack')
  const onlyIndex = process.argv.indexOf('--only')
  const only = onlyIndex > 0 ? process.argv[onlyIndex + 1] : undefined
  const env = { ...TEST_STACK, ...process.env }
  const config = loadPeregrineConfig({ env })
  const logger = createLogger({
    service: 'test-runner',
    version: 'test',
    level: 'info',
    destination: process.stderr as never,
  })

  const stack = await startLocalStack(config, logger)
  const startedHere = stack.alreadyRunning.length === 0
  process.stderr.write(
    `test stack ready: brokers ${stack.brokers.join(',')}, registry ${stack.registryUrl}\n`,
  )

  try {
    return await runNodeTests(
      {
        ...env,
        PEREGRINE_KAFKA_BROKERS: stack.brokers.join(','),
        PEREGRINE_REGISTRY_URL: stack.registryUrl,
        KAFKAJS_NO_PARTITIONER_WARNING: '1',
      },
      only,
    )
  } finally {
    if (startedHere && !keepStack) await stopLocalStack(config, logger)
  }
}

async function runNodeTests(env: NodeJS.ProcessEnv, only: string | undefined): Promise<number> {
  const folders = TEST_FOLDERS.map((folder) => join(PROJECT_ROOT, 'dist', folder)).filter(
    (folder) => existsSync(folder),
  )
  // The retry tests use node:test's mock timers, which Node 20 flags as experimental on every run.
  // --test-timeout fails a hung suite. --test-force-exit is left out: on Node 20.20 it sometimes
  // ends a file before its last results reach the runner, which then counts fewer tests.
  const args = [
    '--disable-warning=ExperimentalWarning',
    '--test',
    '--test-reporter=spec',
    '--test-concurrency=1',
    `--test-timeout=${SUITE_TIMEOUT_MS}`,
  ]
  if (only !== undefined) args.push(`--test-name-pattern=${only}`)
  // A test that leaves a server open keeps its file's process, and the run, alive. The runner and
  // its test files get a process group of their own, so the watchdog can kill all of them.
  const child = spawn(process.execPath, [...args, ...folders], {
    env,
    stdio: 'inherit',
    detached: true,
  })
  const signalTestProcesses = (signal: NodeJS.Signals): void => {
    if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, signal)
  }
  process.on('SIGINT', signalTestProcesses)
  process.on('SIGTERM', signalTestProcesses)
  const watchdog = setTimeout(() => {
    process.stderr.write(
      `test run timed out after ${RUN_TIMEOUT_MS / 60_000} minutes and was killed: look for a test file that leaves a server or timer open\n`,
    )
    signalTestProcesses('SIGKILL')
  }, RUN_TIMEOUT_MS)

  return await new Promise<number>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(watchdog)
      process.off('SIGINT', signalTestProcesses)
      process.off('SIGTERM', signalTestProcesses)
      resolve(code ?? 1)
    }),
  )
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `test run failed before the tests: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    process.exit(1)
  },
)
