import type { Registry } from 'prom-client'
import { findUnknownEnvVars, redactConfig } from '../core/config.js'
import { ConfigError, errorMessage } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import { createMetricsRegistry, startMetricsServer } from '../core/metrics.js'
import type { MetricsServer } from '../core/metrics.js'
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

export interface RoleOptions {
  /** Log to stderr, for roles that print their own output on stdout. */
  logToStderr?: boolean
}

/** PEREGRINE_* variables that are not settings: build switches of the native addon and test knobs. */
const OTHER_VARIABLES = [
  'PEREGRINE_NATIVE_SKIP',
  'PEREGRINE_NATIVE_CLANG',
  'PEREGRINE_NATIVE_BPFTOOL',
  'PEREGRINE_UPSTREAM_DIR',
  'PEREGRINE_TEST_LOG_LEVEL',
]

/**
 * Default /metrics port of each role when PEREGRINE_METRICS_PORT is unset, so the roles can run
 * side by side on one host. Roles not listed take a free port.
 */
const ROLE_METRICS_PORTS: Record<string, number> = {
  producer: 9464,
  processor: 9465,
  'sink-stdout': 9466,
  'sink-webhook': 9466,
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
  options: RoleOptions = {},
): Promise<void> {
  const { logger, metricsRegistry, metricsServer } = await prepareRole(config, service, options)
  let close: () => Promise<void> = async () => {}
  const controller = installShutdownHandlers(logger, async () => {
    await close()
    await metricsServer.close()
  })
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
  options: RoleOptions = {},
): Promise<T> {
  const { logger, metricsRegistry, metricsServer } = await prepareRole(config, service, options)
  const running: { task?: Promise<T> } = {}
  const controller = installShutdownHandlers(logger, async () => {
    await running.task?.catch(() => {
      // The caller that awaits the task below reports its failure.
    })
    await metricsServer.close()
  })
  running.task = task({ config, logger, metricsRegistry, signal: controller.signal })
  try {
    return await running.task
  } finally {
    await metricsServer.close()
  }
}

async function prepareRole(
  config: PeregrineConfig,
  service: string,
  options: RoleOptions,
): Promise<{ logger: Logger; metricsRegistry: Registry; metricsServer: MetricsServer }> {
  const logger = createRoleLogger(config, service, options.logToStderr)
  for (const unknown of findUnknownEnvVars(SETTINGS, process.env, 'PEREGRINE_', OTHER_VARIABLES)) {
    const hint = unknown.suggestion === undefined ? '' : `; did you mean ${unknown.suggestion}?`
    logger.warn(
      { variable: unknown.name },
      `unknown environment variable ${unknown.name} is ignored${hint}`,
    )
  }
  const metricsRegistry = createMetricsRegistry()
  const metricsServer = await startRoleMetrics(config, service, metricsRegistry, logger)
  logger.info(
    { config: redactConfig(SETTINGS, config), metricsPort: metricsServer.port },
    'starting',
  )
  return { logger, metricsRegistry, metricsServer }
}

/**
 * Serves /metrics on the configured port, or on the role's default port. Only a default port that
 * is taken falls back to a free one, with a warning; a configured port that is taken is an error.
 */
async function startRoleMetrics(
  config: PeregrineConfig,
  service: string,
  registry: Registry,
  logger: Logger,
): Promise<MetricsServer> {
  const configured = config.metrics.port
  const port = configured ?? ROLE_METRICS_PORTS[service] ?? 0
  try {
    return await startMetricsServer(registry, config.metrics.host, port)
  } catch (error) {
    if (configured !== undefined) throw new ConfigError(errorMessage(error), { cause: error })
    const server = await startMetricsServer(registry, config.metrics.host, 0)
    logger.warn(
      { defaultPort: port, metricsPort: server.port },
      'default metrics port is taken; serving /metrics on a free port',
    )
    return server
  }
}
