import { setTimeout as sleep } from 'node:timers/promises'
import { StackError, errorMessage } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import type { StackArtifacts } from './artifacts.js'
import type { ManagedProcess } from './managed-process.js'
import type { PortSetting } from './port-check.js'

export type ComponentName = 'broker' | 'registry'

/** One process of the local stack: the Kafka broker or the schema registry. */
export interface StackComponent {
  readonly name: ComponentName
  /** Name for people, such as "Kafka broker". */
  readonly title: string
  /** Address clients use: host:port for the broker, the API base URL for the registry. */
  readonly address: string
  readonly process: ManagedProcess
  /** Ports the component listens on, checked before it starts. */
  readonly ports: PortSetting[]
  /** Logger that binds `component` to the component's name. */
  readonly logger: Logger
  /** Prepares the data folder and starts the process in the background; returns its pid. */
  start: (artifacts: StackArtifacts) => Promise<number>
  /** Makes one real client call; throws when the component does not serve requests yet. */
  probe: (timeoutMs: number) => Promise<void>
}

const READINESS_POLL_INTERVAL_MS = 250
/** Upper bound of one readiness call, so a hung connection cannot use up the whole start time. */
const PROBE_TIMEOUT_MS = 5000
const LOG_TAIL_LINES = 20

/**
 * Probes the component until it serves requests or `timeoutMs` has passed. When the process exits
 * first or the time runs out, throws StackError with the last lines of the process log. The error
 * is not retriable, because the log usually shows a cause that waiting longer does not fix.
 */
export async function waitUntilReady(
  component: StackComponent,
  pid: number,
  timeoutMs: number,
): Promise<void> {
  const startedAt = Date.now()
  const deadline = startedAt + timeoutMs
  let lastError: unknown

  for (let attempt = 1; ; attempt++) {
    if (!component.process.isAlive(pid)) {
      throw await startFailure(component, `exited during start-up (pid ${pid})`)
    }
    try {
      await component.probe(Math.max(1, Math.min(PROBE_TIMEOUT_MS, deadline - Date.now())))
      component.logger.info(
        { javaPid: pid, address: component.address, durationMs: Date.now() - startedAt },
        'stack component ready',
      )
      return
    } catch (error) {
      lastError = error
      component.logger.debug({ attempt, err: error }, 'stack component not ready yet')
    }
    if (Date.now() + READINESS_POLL_INTERVAL_MS > deadline) break
    await sleep(READINESS_POLL_INTERVAL_MS)
  }

  throw await startFailure(
    component,
    `was not ready within ${timeoutMs} ms (last probe: ${errorMessage(lastError)}); ` +
      'raise PEREGRINE_STACK_START_TIMEOUT_MS if the machine is slow',
  )
}

async function startFailure(component: StackComponent, what: string): Promise<StackError> {
  const tail = await component.process.readLogTail(LOG_TAIL_LINES)
  const log = tail === '' ? 'the log is empty' : `last lines of the log:\n${tail}`
  return new StackError(
    `the ${component.title} at ${component.address} ${what}. ` +
      `See ${component.process.logFile}; ${log}`,
    { context: { component: component.name } },
  )
}
