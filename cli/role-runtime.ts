import type { Registry } from 'prom-client'
import { redactConfig } from '../core/config.js'
import type { Logger } from '../core/logger.js'
import { createMetricsRegistry, startMetricsServer } from '../core/metrics.js'
import { SETTINGS } from '../core/peregrine-config.js'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import { installShutdownHandlers } from '../core/shutdown.js'
import { createRoleLogger } from './options.js'

export interface RoleRuntime {
  config: PeregrineConfig
  logger: Logger
  metricsRegistry: Registry
  /** Aborted on SIGTERM or SIGINT. */
  signal: AbortSignal
}

/**
 * Runs a long-lived role: builds the logger and the metrics endpoint, logs the redacted config,
 * calls `start`, and on SIGTERM or SIGINT runs the close function `start` returned before exiting.
 * Resolves when `start` has finished starting; the process then lives until a signal arrives.
 */
export async function runRole(
  config: PeregrineConfig,
  service: string,
  start: (runtime: RoleRuntime) => Promise<() => Promise<void>>,
  options: { logToStderr?: boolean } = {},
): Promise<void> {
  const logger = createRoleLogger(config, service, options.logToStderr)
  const metricsRegistry = createMetricsRegistry()
  const metricsServer = await startMetricsServer(
    metricsRegistry,
    config.metrics.host,
    config.metrics.port,
  )
  let close: () => Promise<void> = async () => {}
  const controller = installShutdownHandlers(logger, async () => {
    await close()
    await metricsServer.close()
  })
  logger.info(
    { config: redactConfig(SETTINGS, config), metricsPort: metricsServer.port },
    'starting',
  )
  close = await start({ config, logger, metricsRegistry, signal: controller.signal })
}

/**
 * Runs a role that ends on its own, such as the producer reading a file: same logger, metrics and
 * signal handling as runRole, but resolves with the task's result once it finishes. SIGTERM or
 * SIGINT aborts the signal, waits for the task to wind down and exits.
 */
export async function runTask<T>(
  config: PeregrineConfig,
  service: string,
  task: (runtime: RoleRuntime) => Promise<T>,
  options: { logToStderr?: boolean } = {},
): Promise<T> {
  const logger = createRoleLogger(config, service, options.logToStderr)
  const metricsRegistry = createMetricsRegistry()
  const metricsServer = await startMetricsServer(
    metricsRegistry,
    config.metrics.host,
    config.metrics.port,
  )
  const running: { task?: Promise<T> } = {}
  const controller = installShutdownHandlers(logger, async () => {
    await running.task?.catch(() => {
      // The caller that awaits the task below reports its failure.
    })
    await metricsServer.close()
  })
  logger.info(
    { config: redactConfig(SETTINGS, config), metricsPort: metricsServer.port },
    'starting',
  )
  running.task = task({ config, logger, metricsRegistry, signal: controller.signal })
  try {
    return await running.task
  } finally {
    await metricsServer.close()
  }
}
