import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { AddressInfo, Server } from 'node:net'
import { errorMessage } from '../../core/errors.js'
import { silentLogger } from '../../core/logger.js'
import type { Logger } from '../../core/logger.js'
import { PROJECT_ROOT } from '../../schemas/index.js'
import { createFakeContainer, removeFakeContainer, runProgram } from './scenario-context.js'
import type { FakeContainer, ScenarioContext } from './scenario-context.js'
import { SCENARIOS } from './scenarios.js'
import type { RulesFileName, Scenario } from './scenarios.js'

export const HELPER_SOURCE = join(PROJECT_ROOT, 'producer', 'scenarios', 'scenario-helper.c')
/** Peregrine's own rules for the scenarios, named like the upstream rules they stand in for. */
export const SCENARIO_RULES_FILE = join(
  PROJECT_ROOT,
  'producer',
  'scenarios',
  'scenario_rules.yaml',
)
/** The helper's file name; the kernel keeps its first 15 characters as the process name. */
const HELPER_NAME = 'peregrine-scenario-helper'

export interface ScenarioOutcome {
  rule: string
  rulesFile: RulesFileName
  action: string
  status: 'ran' | 'skipped' | 'failed'
  /** Reason the scenario was skipped or failed. */
  reason?: string
  /** Wall-clock time the action started, in nanoseconds since the epoch. */
  startedAtNs: bigint
}

export interface ScenarioRunOptions {
  scenarios?: readonly Scenario[]
  /** C compiler that builds the helper (default `cc`). */
  compiler?: string
  logger?: Logger
}

/**
 * Runs each scenario once, in order, and reports what ran. The run works in a new temporary
 * folder, builds the helper there with the C compiler, listens on 127.0.0.1 for the network
 * scenario and creates the stand-in container's cgroup, and removes all of them at the end.
 * A scenario that fails does not stop the others.
 */
export async function runScenarios(options: ScenarioRunOptions = {}): Promise<ScenarioOutcome[]> {
  const scenarios = options.scenarios ?? SCENARIOS
  const logger = (options.logger ?? silentLogger()).child({ component: 'scenario-runner' })
  const workDir = mkdtempSync(join(tmpdir(), 'peregrine-scenarios-'))
  const server = await listenOnLoopback()
  let container: FakeContainer | null = null

  try {
    const helper = join(workDir, HELPER_NAME)
    const compiler = options.compiler ?? 'cc'
    await promisify(execFile)(compiler, ['-O2', '-o', helper, HELPER_SOURCE]).catch(
      (error: unknown) => {
        // The scenarios that run the helper then fail with ENOENT; the others still run.
        logger.warn({ err: error, compiler, source: HELPER_SOURCE }, 'building the helper failed')
      },
    )
    container = createFakeContainer()
    const context: ScenarioContext = {
      workDir,
      helper,
      tcpPort: (server.address() as AddressInfo).port,
      container,
      run: (program, args, runOptions) => runProgram(program, args, container, runOptions),
    }
    const outcomes: ScenarioOutcome[] = []
    for (const scenario of scenarios) {
      const outcome = await runOne(scenario, context)
      logger.debug({ rule: scenario.rule, status: outcome.status }, 'scenario finished')
      if (outcome.status === 'failed') {
        logger.warn({ rule: scenario.rule, reason: outcome.reason }, 'scenario failed')
      }
      outcomes.push(outcome)
    }
    return outcomes
  } finally {
    server.close()
    if (container !== null) await removeFakeContainer(container)
    rmSync(workDir, { recursive: true, force: true })
  }
}

async function runOne(scenario: Scenario, context: ScenarioContext): Promise<ScenarioOutcome> {
  const base = { rule: scenario.rule, rulesFile: scenario.rulesFile, action: scenario.action }
  const startedAtNs = BigInt(Date.now()) * 1_000_000n
  if (scenario.needsContainer && context.container === null) {
    const reason = 'no writable cgroup hierarchy for the stand-in container'
    return { ...base, status: 'skipped', reason, startedAtNs }
  }
  try {
    await scenario.run(context)
    return { ...base, status: 'ran', startedAtNs }
  } catch (error) {
    return { ...base, status: 'failed', reason: errorMessage(error), startedAtNs }
  }
}

/** Starts a TCP server on 127.0.0.1 that reads and discards whatever its clients send. */
async function listenOnLoopback(): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => {
      // A client that ends abruptly is normal for these scenarios and needs no handling.
    })
    socket.resume()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  server.unref()
  return server
}
