import type { Command } from 'commander'
import { ConfigError } from '../../core/errors.js'
import { runScenarios } from '../../producer/scenarios/scenario-runner.js'
import type { ScenarioOutcome } from '../../producer/scenarios/scenario-runner.js'
import { SCENARIOS } from '../../producer/scenarios/scenarios.js'

interface RunOptions {
  only?: string[]
}

/** Adds `peregrine scenarios`: harmless actions that upstream Falco rules detect. */
export function registerScenariosCommand(program: Command): void {
  const command = program
    .command('scenarios')
    .description('harmless real actions that rules of the upstream Falco rules files detect')
  command
    .command('list')
    .description('print each scenario: its rule, rules file and action')
    .action(() => {
      for (const scenario of SCENARIOS) {
        process.stdout.write(`${scenario.rule}\t${scenario.rulesFile}\t${scenario.action}\n`)
      }
    })
  command
    .command('run')
    .description(
      'run the scenarios once on this host; start peregrine probe --source ebpf and a processor first to see the alerts',
    )
    .option('--only <rules...>', 'run only the scenarios of these rule names')
    .action(async (options: RunOptions) => {
      const outcomes = await runScenarios({ scenarios: selectScenarios(options.only) })
      for (const outcome of outcomes) process.stdout.write(formatOutcome(outcome))
      if (outcomes.some((outcome) => outcome.status === 'failed')) process.exitCode = 1
    })
}

function selectScenarios(rules: string[] | undefined) {
  if (rules === undefined) return SCENARIOS
  const unknown = rules.filter((rule) => !SCENARIOS.some((scenario) => scenario.rule === rule))
  if (unknown.length > 0) {
    throw new ConfigError(
      `--only names no scenario: ${unknown.join(', ')}; see peregrine scenarios list`,
    )
  }
  return SCENARIOS.filter((scenario) => rules.includes(scenario.rule))
}

function formatOutcome(outcome: ScenarioOutcome): string {
  const reason = outcome.reason === undefined ? '' : ` (${outcome.reason})`
  return `${outcome.status.padEnd(7)} ${outcome.rule}${reason}\n`
}
