import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { StackError, errorMessage } from '../core/errors.js'
import { silentLogger } from '../core/logger.js'
import type { Logger } from '../core/logger.js'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import { fetchArtifacts } from './artifacts.js'
import type { StackArtifacts } from './artifacts.js'
import { withFileLock } from './file-lock.js'
import { KafkaBroker } from './kafka-broker.js'
import type { StopOutcome } from './managed-process.js'
import { ensureDistinctPorts, ensurePortFree } from './port-check.js'
import type { PortSetting } from './port-check.js'
import { checkPrerequisites } from './prerequisites.js'
import { SchemaRegistryServer } from './schema-registry-server.js'
import { waitUntilReady } from './stack-component.js'
import type { ComponentName, StackComponent } from './stack-component.js'

export type { ComponentName } from './stack-component.js'

/** Addresses at which clients reach the local stack. */
export interface StackEndpoints {
  /** Bootstrap brokers as host:port, for `kafka.brokers`. */
  brokers: string[]
  /** Base URL of the Confluent-compatible registry API, for `registry.url`. */
  registryUrl: string
}

export interface StackStartResult extends StackEndpoints {
  /** Components whose process already ran before this call; this call started the others. */
  alreadyRunning: ComponentName[]
}

export interface ComponentStatus {
  name: ComponentName
  title: string
  address: string
  isRunning: boolean
  pid?: number
  isReady: boolean
  logFile: string
}

export interface StackStatus {
  components: ComponentStatus[]
  /** True when every component runs and a real client call to it succeeds. */
  isReady: boolean
}

/** Lock file in the data folder, held while one `up` fetches and starts the components. */
const UP_LOCK_FILE = 'up.lock'
/** Time one status probe may take, in milliseconds. */
const STATUS_PROBE_TIMEOUT_MS = 5000

/**
 * Starts the Kafka broker and the schema registry of the local stack on 127.0.0.1 and waits until
 * both serve requests. Fetches the artifacts on first use. A component that already runs from the
 * same data folder is left alone, so a second call is harmless. When a component fails to become
 * ready within `stack.startTimeoutMs`, the components this call started are stopped again.
 * Throws StackError naming what to fix (missing Java or Maven, a port in use, the process log of a
 * failed start); not retriable.
 */
export async function startLocalStack(
  config: PeregrineConfig,
  logger: Logger,
): Promise<StackStartResult> {
  const components = createComponents(config, logger)
  ensureDistinctPorts(components.flatMap((component) => component.ports))
  const dataDir = resolve(config.stack.dataDir)
  await mkdir(dataDir, { recursive: true })
  await checkPrerequisites()

  // Parallel callers, such as test files run at once, wait here and then find the stack running.
  const { fetchTimeoutMs, startTimeoutMs, stopTimeoutMs } = config.stack
  const lockOptions = {
    timeoutMs: 2 * fetchTimeoutMs + startTimeoutMs + stopTimeoutMs,
    purpose: '"peregrine stack up"',
  }
  return await withFileLock(join(dataDir, UP_LOCK_FILE), lockOptions, async () => {
    const artifacts = await fetchArtifacts(config, logger.child({ component: 'artifacts' }))
    return await startComponents(config, components, artifacts)
  })
}

/**
 * Stops the broker and the registry with SIGTERM, then SIGKILL after `stack.stopTimeoutMs`, and
 * removes their pid files. Harmless when nothing runs. Throws StackError when a process cannot be
 * signalled or outlives SIGKILL.
 */
export async function stopLocalStack(
  config: PeregrineConfig,
  logger: Logger,
): Promise<Record<ComponentName, StopOutcome>> {
  const components = createComponents(config, logger)
  const results = await Promise.allSettled(
    components.map(async (component) => await component.process.stop(config.stack.stopTimeoutMs)),
  )

  const outcomes: Partial<Record<ComponentName, StopOutcome>> = {}
  const failures: string[] = []
  for (const [index, result] of results.entries()) {
    const component = components[index]
    if (result.status === 'rejected') {
      failures.push(`${component.title}: ${errorMessage(result.reason)}`)
      continue
    }
    outcomes[component.name] = result.value
    if (result.value !== 'not-running')
      component.logger.info({ outcome: result.value }, 'stack component stopped')
  }
  if (failures.length > 0)
    throw new StackError(`stopping the local stack failed: ${failures.join('; ')}`)
  return outcomes as Record<ComponentName, StopOutcome>
}

/**
 * Reports for each component whether its process runs (from the pid file) and whether a real client
 * call to it succeeds. Removes stale pid files on the way, like `up` does.
 */
export async function stackStatus(
  config: PeregrineConfig,
  logger: Logger = silentLogger(),
): Promise<StackStatus> {
  const components = createComponents(config, logger)
  const statuses = await Promise.all(
    components.map(async (component) => await componentStatus(component)),
  )
  return { components: statuses, isReady: statuses.every((status) => status.isReady) }
}

/** Returns the addresses the stack serves on with this config, whether it runs or not. */
export function stackEndpoints(config: PeregrineConfig): StackEndpoints {
  const [broker, registry] = createComponents(config, silentLogger())
  return { brokers: [broker.address], registryUrl: registry.address }
}

/** Checks every port before failing, so one run reports all the ports to move. */
async function ensurePortsFree(ports: PortSetting[]): Promise<void> {
  const failures: string[] = []
  for (const port of ports) {
    try {
      await ensurePortFree(port)
    } catch (error) {
      failures.push(errorMessage(error))
    }
  }
  if (failures.length === 1) throw new StackError(failures[0])
  if (failures.length > 1)
    throw new StackError(`${failures.length} ports are taken:\n  ${failures.join('\n  ')}`)
}

function createComponents(config: PeregrineConfig, logger: Logger): StackComponent[] {
  const dataDir = resolve(config.stack.dataDir)
  return [
    new KafkaBroker(config, dataDir, logger),
    new SchemaRegistryServer(config, dataDir, logger),
  ]
}

/** Starts the components that do not run yet and waits until every component is ready. */
async function startComponents(
  config: PeregrineConfig,
  components: StackComponent[],
  artifacts: StackArtifacts,
): Promise<StackStartResult> {
  const runningPids = await findRunningPids(components)
  const stopped = components.filter((component) => !runningPids.has(component.name))
  await ensurePortsFree(stopped.flatMap((component) => component.ports))

  const pids = new Map(runningPids)
  const startedNow: StackComponent[] = []
  try {
    for (const component of stopped) {
      const pid = await component.start(artifacts)
      pids.set(component.name, pid)
      startedNow.push(component)
      component.logger.info(
        { javaPid: pid, logFile: component.process.logFile },
        'stack component started',
      )
    }
    await waitForAll(components, pids, config)
  } catch (error) {
    await stopAfterFailedStart(startedNow, config)
    throw error
  }

  return {
    ...stackEndpoints(config),
    alreadyRunning: components.map((c) => c.name).filter((name) => runningPids.has(name)),
  }
}

async function findRunningPids(components: StackComponent[]): Promise<Map<ComponentName, number>> {
  const pids = new Map<ComponentName, number>()
  for (const component of components) {
    const pid = await component.process.findRunningPid()
    if (pid !== undefined) pids.set(component.name, pid)
  }
  return pids
}

/** Waits for every component in parallel; throws one StackError with every failure's message. */
async function waitForAll(
  components: StackComponent[],
  pids: Map<ComponentName, number>,
  config: PeregrineConfig,
): Promise<void> {
  const results = await Promise.allSettled(
    components.map(async (component) => {
      const pid = pids.get(component.name) ?? 0
      await waitUntilReady(component, pid, config.stack.startTimeoutMs)
    }),
  )
  const failures = results.flatMap((result) =>
    result.status === 'rejected' ? [result.reason] : [],
  )
  if (failures.length === 1) throw failures[0]
  if (failures.length > 1) throw new StackError(failures.map(errorMessage).join('\n\n'))
}

/**
 * Stops what a failed `up` started, so it leaves no half-started stack behind. A stop failure is
 * logged, not thrown, because the start failure is the error the caller needs to see.
 */
async function stopAfterFailedStart(
  startedNow: StackComponent[],
  config: PeregrineConfig,
): Promise<void> {
  for (const component of startedNow) {
    try {
      await component.process.stop(config.stack.stopTimeoutMs)
    } catch (error) {
      component.logger.error({ err: error }, 'stopping a component after a failed start failed')
    }
  }
}

async function componentStatus(component: StackComponent): Promise<ComponentStatus> {
  const pid = await component.process.findRunningPid()
  let isReady = false
  if (pid !== undefined) {
    isReady = await component.probe(STATUS_PROBE_TIMEOUT_MS).then(
      () => true,
      () => false,
    )
  }
  return {
    name: component.name,
    title: component.title,
    address: component.address,
    isRunning: pid !== undefined,
    pid,
    isReady,
    logFile: component.process.logFile,
  }
}
