import type { Command } from 'commander'
import { PRIORITIES } from '../../core/peregrine-config.js'
import { startProcessor } from '../../processors/main.js'
import { loadProcessorRules } from '../../processors/rules-loader.js'
import { addCommonOptions, loadCommandConfig } from '../options.js'
import type { CommonOptions } from '../options.js'
import { runRole } from '../role-runtime.js'

interface ProcessOptions extends CommonOptions {
  rules?: string[]
  minPriority?: string
  groupId?: string
}

/** Adds `peregrine process`: the rule processor role. */
export function registerProcessCommand(program: Command): void {
  const command = program
    .command('process')
    .description('evaluate Falco rules on the events topic and write alerts to the alerts topic')
    .option(
      '--rules <files...>',
      'Falco rules files or folders, in load order (PEREGRINE_PROCESSOR_RULES_FILES); default: the bundled rules',
    )
    .option(
      '--min-priority <priority>',
      `lowest rule priority that raises alerts: ${PRIORITIES.join(', ')} (PEREGRINE_PROCESSOR_MIN_PRIORITY)`,
    )
    .option('--group-id <id>', 'consumer group of the processors (PEREGRINE_PROCESSOR_GROUP_ID)')
  addCommonOptions(command).action(async (options: ProcessOptions) => {
    const config = loadCommandConfig(options, {
      'processor.rulesFiles': { flag: '--rules', value: options.rules?.join(',') },
      'processor.minPriority': {
        flag: '--min-priority',
        value: options.minPriority?.toLowerCase(),
      },
      'processor.groupId': { flag: '--group-id', value: options.groupId },
    })
    await runRole(config, 'processor', async (runtime) => {
      const rules = loadProcessorRules(
        config.processor.rulesFiles,
        config.processor.minPriority,
        runtime.logger,
      )
      const processor = await startProcessor({ ...runtime, rules })
      return processor.close
    })
  })
}
