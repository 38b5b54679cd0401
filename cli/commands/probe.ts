import type { Command } from 'commander'
import { ConfigError } from '../../core/errors.js'
import type { Logger } from '../../core/logger.js'
import type { PeregrineConfig } from '../../core/peregrine-config.js'
import { loadProcessorRules } from '../../processors/rules-loader.js'
import { selectSyscalls } from '../../producer/ebpf/syscall-selection.js'
import { runProducer } from '../../producer/main.js'
import { createEventSource } from '../../producer/source-factory.js'
import { addCommonOptions, loadCommandConfig } from '../options.js'
import type { CommonOptions } from '../options.js'
import { runTask } from '../role-runtime.js'

const MIB = 1024 * 1024

interface ProbeOptions extends CommonOptions {
  source: string
  hostname?: string
  rules?: string[]
}

/** Adds `peregrine probe`: the producer role. */
export function registerProbeCommand(program: Command): void {
  const command = program
    .command('probe')
    .description('read syscall events from a source and publish them to the events topic')
    .requiredOption(
      '--source <source>',
      'ebpf (this host, live), capture:FILE (.scap through sysdig), events:FILE (JSON lines) or generator:COUNT',
    )
    .option('--hostname <name>', 'host name written into events (PEREGRINE_PRODUCER_HOSTNAME)')
    .option(
      '--rules <files...>',
      'with --source ebpf: Falco rules files or folders whose event types are traced; default: every syscall the probe supports',
    )
  addCommonOptions(command).action(async (options: ProbeOptions) => {
    const config = loadCommandConfig(options, {
      'producer.hostname': { flag: '--hostname', value: options.hostname },
    })
    if (options.rules !== undefined && options.source !== 'ebpf') {
      throw new ConfigError('--rules applies only to --source ebpf; leave it out for file sources')
    }
    await runTask(config, 'producer', async (runtime) => {
      const source = createEventSource(options.source, {
        hostname: config.producer.hostname,
        logger: runtime.logger,
        syscalls: tracedSyscalls(options.rules, config, runtime.logger),
        ebpf: { ringBytes: config.producer.ebpfRingMib * MIB },
      })
      return await runProducer({ ...runtime, source })
    })
  })
}

/** Returns the event types the rules files need, or undefined for every supported syscall. */
function tracedSyscalls(
  rulesFiles: string[] | undefined,
  config: PeregrineConfig,
  logger: Logger,
): string[] | undefined {
  if (rulesFiles === undefined) return undefined
  const rules = loadProcessorRules(rulesFiles, config.processor.minPriority, logger)
  const selection = selectSyscalls(rules.eventTypes())
  if (selection.untraceable.length > 0) {
    logger.warn(
      { eventTypes: selection.untraceable },
      'the rules read event types the probe cannot trace; rules on them will not match live events',
    )
  }
  logger.info({ syscalls: selection.syscalls }, 'syscalls selected from the rules')
  return selection.syscalls
}
