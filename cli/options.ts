import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { pino } from 'pino'
import { loadPeregrineConfig } from '../core/peregrine-config.js'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import { createLogger } from '../core/logger.js'
import type { Logger } from '../core/logger.js'
import { PROJECT_ROOT } from '../schemas/index.js'

export interface CommonOptions {
  config?: string
  brokers?: string
  registry?: string
  logLevel?: string
  metricsPort?: string
}

export const VERSION = (
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }
).version

/** Adds the flags every role takes; each maps to one config key. */
export function addCommonOptions(command: Command): Command {
  return command
    .option('--config <file>', 'YAML or JSON config file (keys mirror the PEREGRINE_* variables)')
    .option(
      '--brokers <list>',
      'Kafka bootstrap brokers, host:port comma-separated (PEREGRINE_KAFKA_BROKERS)',
    )
    .option('--registry <url>', 'schema registry URL (PEREGRINE_REGISTRY_URL)')
    .option(
      '--log-level <level>',
      'fatal, error, warn, info, debug, trace or silent (PEREGRINE_LOG_LEVEL)',
    )
    .option(
      '--metrics-port <port>',
      'port of /metrics; 0 picks a free one, -1 turns it off (PEREGRINE_METRICS_PORT)',
    )
}

/** A command-line flag's value for one config key, with the flag's name for error messages. */
export interface CommandOverride {
  flag: string
  value: string | undefined
}

/**
 * Loads the config from the --config file, the environment and the common flags, plus any
 * command-specific overrides by dotted key. Throws ConfigError listing every invalid value.
 */
export function loadCommandConfig(
  options: CommonOptions,
  overrides: Record<string, CommandOverride> = {},
): PeregrineConfig {
  const all: Record<string, CommandOverride> = {
    'kafka.brokers': { flag: '--brokers', value: options.brokers },
    'registry.url': { flag: '--registry', value: options.registry },
    'log.level': { flag: '--log-level', value: options.logLevel },
    'metrics.port': { flag: '--metrics-port', value: options.metricsPort },
    ...overrides,
  }
  return loadPeregrineConfig({
    file: options.config,
    env: process.env,
    overrides: Object.fromEntries(Object.entries(all).map(([key, entry]) => [key, entry.value])),
    overrideFlags: Object.fromEntries(Object.entries(all).map(([key, entry]) => [key, entry.flag])),
  })
}

/**
 * Creates the root logger of a role from its config. Roles that print their own output on stdout
 * (the stdout sink, the demo) log to stderr so the two streams stay separate.
 */
export function createRoleLogger(
  config: PeregrineConfig,
  service: string,
  logToStderr = false,
): Logger {
  const destination = logToStderr ? pino.destination(2) : undefined
  return createLogger({ service, version: VERSION, level: config.log.level, destination })
}
