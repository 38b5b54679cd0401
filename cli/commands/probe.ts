import type { Command } from 'commander'
import { runProducer } from '../../producer/main.js'
import { createEventSource } from '../../producer/source-factory.js'
import { addCommonOptions, loadCommandConfig } from '../options.js'
import type { CommonOptions } from '../options.js'
import { runTask } from '../role-runtime.js'

interface ProbeOptions extends CommonOptions {
  source: string
  hostname?: string
}

/** Adds `peregrine probe`: the producer role. */
export function registerProbeCommand(program: Command): void {
  const command = program
    .command('probe')
    .description('read syscall events from a source and publish them to the events topic')
    .requiredOption(
      '--source <source>',
      'capture:FILE (.scap through sysdig), events:FILE (JSON lines) or generator:COUNT',
    )
    .option('--hostname <name>', 'host name written into events (PEREGRINE_PRODUCER_HOSTNAME)')
  addCommonOptions(command).action(async (options: ProbeOptions) => {
    const config = loadCommandConfig(options, {
      'producer.hostname': { flag: '--hostname', value: options.hostname },
    })
    await runTask(config, 'producer', async (runtime) => {
      const source = createEventSource(options.source, {
        hostname: config.producer.hostname,
        logger: runtime.logger,
      })
      return await runProducer({ ...runtime, source })
    })
  })
}
