import type { Command } from 'commander'
import { createLogger } from '../../core/logger.js'
import type { Logger } from '../../core/logger.js'
import type { PeregrineConfig } from '../../core/peregrine-config.js'
import { startLocalStack, stackStatus, stopLocalStack } from '../../stack/local-stack.js'
import type { StopOutcome } from '../../stack/managed-process.js'
import { VERSION, addCommonOptions, loadCommandConfig } from '../options.js'
import type { CommonOptions } from '../options.js'

interface StackOptions extends CommonOptions {
  dataDir?: string
  cacheDir?: string
  kafkaPort?: string
  controllerPort?: string
  registryPort?: string
}

/** Exit code of `stack status` when a component is stopped or fails its readiness check. */
export const NOT_READY_EXIT_CODE = 3

const STOP_MESSAGES: Record<StopOutcome, string> = {
  'not-running': 'was not running',
  terminated: 'stopped',
  killed: 'did not stop after SIGTERM within the stop timeout and was killed',
}

/** Adds `peregrine stack up | down | status`, which run the local broker and schema registry. */
export function registerStackCommand(program: Command): void {
  const stack = program
    .command('stack')
    .description(
      'run a local Kafka broker and schema registry on 127.0.0.1 for development and tests',
    )

  addStackOptions(stack.command('up'))
    .description(
      'fetch the artifacts on first use, start the broker and the registry, wait until ready',
    )
    .action(async (options: StackOptions) => {
      await runUp(options)
    })

  addStackOptions(stack.command('down'))
    .description('stop the broker and the registry (SIGTERM, then SIGKILL after the stop timeout)')
    .action(async (options: StackOptions) => {
      await runDown(options)
    })

  addStackOptions(stack.command('status'))
    .description(
      'show whether the broker and the registry run and pass a readiness check; ' +
        `exit ${NOT_READY_EXIT_CODE} unless both do`,
    )
    .action(async (options: StackOptions) => {
      await runStatus(options)
    })
}

function addStackOptions(command: Command): Command {
  return addCommonOptions(command)
    .option(
      '--data-dir <dir>',
      'folder of broker data, logs and pid files (PEREGRINE_STACK_DATA_DIR)',
    )
    .option(
      '--cache-dir <dir>',
      'folder of the artifacts fetched with Maven (PEREGRINE_STACK_CACHE_DIR)',
    )
    .option('--kafka-port <port>', 'client port of the broker (PEREGRINE_STACK_KAFKA_PORT)')
    .option('--controller-port <port>', 'KRaft controller port (PEREGRINE_STACK_CONTROLLER_PORT)')
    .option(
      '--registry-port <port>',
      'HTTP port of the schema registry (PEREGRINE_STACK_REGISTRY_PORT)',
    )
}

async function runUp(options: StackOptions): Promise<void> {
  const config = loadStackConfig(options)
  const result = await startLocalStack(config, createStackLogger(config))

  const brokerState = result.alreadyRunning.includes('broker') ? 'already running' : 'started'
  const registryState = result.alreadyRunning.includes('registry') ? 'already running' : 'started'
  const brokers = result.brokers.join(',')
  writeLines([
    `Kafka broker ready at ${brokers} (${brokerState})`,
    `Schema registry ready at ${result.registryUrl} (${registryState})`,
    'Point Peregrine at them with:',
    `  export PEREGRINE_KAFKA_BROKERS=${brokers}`,
    `  export PEREGRINE_REGISTRY_URL=${result.registryUrl}`,
  ])
}

async function runDown(options: StackOptions): Promise<void> {
  const config = loadStackConfig(options)
  const outcomes = await stopLocalStack(config, createStackLogger(config))
  writeLines([
    `Kafka broker ${STOP_MESSAGES[outcomes.broker]}`,
    `Schema registry ${STOP_MESSAGES[outcomes.registry]}`,
  ])
}

async function runStatus(options: StackOptions): Promise<void> {
  const config = loadStackConfig(options)
  const status = await stackStatus(config, createStackLogger(config))

  const rows = status.components.map((component) => [
    component.name,
    component.isRunning ? 'running' : 'stopped',
    component.pid === undefined ? 'pid -' : `pid ${component.pid}`,
    component.isReady ? 'ready' : 'not ready',
    component.address,
  ])
  writeLines(formatTable(rows))
  if (!status.isReady) process.exitCode = NOT_READY_EXIT_CODE
}

function loadStackConfig(options: StackOptions): PeregrineConfig {
  return loadCommandConfig(options, {
    'stack.dataDir': { flag: '--data-dir', value: options.dataDir },
    'stack.cacheDir': { flag: '--cache-dir', value: options.cacheDir },
    'stack.kafkaPort': { flag: '--kafka-port', value: options.kafkaPort },
    'stack.controllerPort': { flag: '--controller-port', value: options.controllerPort },
    'stack.registryPort': { flag: '--registry-port', value: options.registryPort },
  })
}

/**
 * Logs to stderr, because stdout carries the addresses and the status table that people and
 * scripts read.
 */
function createStackLogger(config: PeregrineConfig): Logger {
  return createLogger({
    service: 'stack',
    version: VERSION,
    level: config.log.level,
    destination: process.stderr,
  })
}

function formatTable(rows: string[][]): string[] {
  const widths = rows[0].map((_cell, column) => Math.max(...rows.map((row) => row[column].length)))
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd(),
  )
}

function writeLines(lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`)
}
