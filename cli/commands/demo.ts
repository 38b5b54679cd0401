import { join } from 'node:path'
import type { Command } from 'commander'
import { loadPeregrineConfig } from '../../core/peregrine-config.js'
import type { PeregrineConfig } from '../../core/peregrine-config.js'
import { ConfigError } from '../../core/errors.js'
import { probeAvailability } from '../../native/src/index.js'
import { DEFAULT_RULES_FILE, loadProcessorRules } from '../../processors/rules-loader.js'
import type { RuleSet } from '../../processors/rules/index.js'
import { selectSyscalls } from '../../producer/ebpf/syscall-selection.js'
import { SCENARIO_RULES_FILE, runScenarios } from '../../producer/scenarios/scenario-runner.js'
import type { ScenarioOutcome } from '../../producer/scenarios/scenario-runner.js'
import { createEventSource } from '../../producer/source-factory.js'
import { PROJECT_ROOT } from '../../schemas/index.js'
import { startLocalStack, stopLocalStack } from '../../stack/local-stack.js'
import { runDemoPipeline } from '../demo-run.js'
import type { DemoSummary, LiveDemo } from '../demo-run.js'
import type { Logger } from '../../core/logger.js'
import { addCommonOptions, loadCommandConfig } from '../options.js'
import type { CommonOptions } from '../options.js'
import { runTask } from '../role-runtime.js'

interface DemoOptions extends CommonOptions {
  capture?: string
  events?: string
  source?: string
  rules?: string[]
  json?: boolean
  keepStack?: boolean
  keepTopics?: boolean
  drainTimeoutMs?: string
}

const DEFAULT_DRAIN_TIMEOUT_MS = 120_000

/** The project's own sample session, in which the default rules fire. */
export const DEMO_SESSION_FILE = join(PROJECT_ROOT, 'producer', 'samples', 'demo-session.jsonl')

/**
 * Adds `peregrine demo`: the whole pipeline on the local stack, in one process. Without a source
 * option it watches this host through the live eBPF probe while the scenarios run, with the
 * bundled default rules plus the scenario rules, and stops once their alerts are printed. Where
 * the probe cannot run, it replays the sample session and prints why.
 */
export function registerDemoCommand(program: Command): void {
  const command = program
    .command('demo')
    .description(
      'run the whole pipeline on the local stack: source, producer, processor and stdout sink',
    )
    .option(
      '--capture <file>',
      'read a Falco/sysdig capture file (.scap); default: the live probe with the scenarios',
    )
    .option('--events <file>', 'read a Peregrine JSON-lines event file')
    .option('--source <source>', 'any source peregrine probe accepts, such as generator:10000')
    .option(
      '--rules <files...>',
      'Falco rules files or folders, in load order; default: the bundled rules',
    )
    .option('--json', 'print alerts as Falco JSON instead of Falco text lines')
    .option('--keep-stack', 'leave the local stack running afterwards')
    .option(
      '--keep-topics',
      "keep this run's topics on the broker afterwards (they are deleted by default)",
    )
    .option(
      '--drain-timeout-ms <ms>',
      'maximum wait for the processor and the sink to catch up, in milliseconds (default: 120000)',
    )
  addCommonOptions(command).action(async (options: DemoOptions) => {
    const sourceSpec = chooseSource(options)
    const isLive = sourceSpec === LIVE_WITH_SCENARIOS
    const outcomes: ScenarioOutcome[] = []
    const baseConfig = loadCommandConfig({ ...options, logLevel: options.logLevel ?? 'warn' })
    const usesLocalStack =
      options.brokers === undefined && process.env.PEREGRINE_KAFKA_BROKERS === undefined

    const summary = await runTask(
      baseConfig,
      'demo',
      async (runtime) => {
        const rules = loadProcessorRules(
          options.rules ?? demoRulesFiles(baseConfig.processor.rulesFiles, isLive),
          baseConfig.processor.minPriority,
          runtime.logger,
        )
        const stack = usesLocalStack ? await startLocalStack(baseConfig, runtime.logger) : undefined
        const config =
          stack === undefined
            ? baseConfig
            : withEndpoints(options, stack.brokers, stack.registryUrl)
        try {
          const source = createEventSource(isLive ? 'ebpf' : sourceSpec, {
            hostname: config.producer.hostname,
            logger: runtime.logger,
            syscalls: isLive ? selectSyscalls(rules.eventTypes()).syscalls : undefined,
            ebpf: { ringBytes: config.producer.ebpfRingMib * 1024 * 1024 },
          })
          return await runDemoPipeline({
            live: isLive ? scenarioDemo(rules, outcomes, runtime.logger) : undefined,
            ...runtime,
            config,
            source,
            rules,
            output: process.stdout,
            format: options.json === true ? 'json' : 'text',
            drainTimeoutMs: Number(options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS),
            keepTopics: options.keepTopics === true,
          })
        } finally {
          if (
            stack !== undefined &&
            stack.alreadyRunning.length === 0 &&
            options.keepStack !== true
          ) {
            await stopLocalStack(baseConfig, runtime.logger)
          }
        }
      },
      { logToStderr: true },
    )
    process.stdout.write(formatSummary(summary))
    if (isLive) process.stdout.write(formatScenarios(outcomes))
  })
}

/** Source value meaning: the live probe, with the scenarios run against it. */
const LIVE_WITH_SCENARIOS = 'ebpf+scenarios'

function demoRulesFiles(configured: string[], isLive: boolean): string[] {
  if (configured.length > 0 || !isLive) return configured
  return [DEFAULT_RULES_FILE, SCENARIO_RULES_FILE]
}

function scenarioDemo(rules: RuleSet, outcomes: ScenarioOutcome[], logger: Logger): LiveDemo {
  const loaded = new Set(rules.rules.filter((rule) => rule.enabled).map((rule) => rule.name))
  return {
    act: async () => {
      outcomes.push(...(await runScenarios({ logger })))
      return outcomes
        .filter((outcome) => outcome.status === 'ran' && loaded.has(outcome.rule))
        .map((outcome) => outcome.rule)
    },
  }
}

function chooseSource(options: DemoOptions): string {
  const given = [
    options.capture === undefined ? undefined : `capture:${options.capture}`,
    options.events === undefined ? undefined : `events:${options.events}`,
    options.source,
  ].filter((spec) => spec !== undefined)
  if (given.length > 1) throw new ConfigError('give only one of --capture, --events and --source')
  if (given.length === 1) return given[0]

  const availability = probeAvailability()
  if (availability.isAvailable) return LIVE_WITH_SCENARIOS
  process.stderr.write(
    `peregrine demo: the live eBPF probe cannot run here (${availability.reason}); replaying the sample session ${DEMO_SESSION_FILE} instead\n`,
  )
  return `events:${DEMO_SESSION_FILE}`
}

function withEndpoints(
  options: DemoOptions,
  brokers: string[],
  registryUrl: string,
): PeregrineConfig {
  return loadPeregrineConfig({
    file: options.config,
    env: process.env,
    overrides: {
      'kafka.brokers': brokers.join(','),
      'registry.url': registryUrl,
      'log.level': options.logLevel ?? 'warn',
      'metrics.port': options.metricsPort,
    },
  })
}

/** Formats what each scenario of a live demo did, printed after the summary. */
export function formatScenarios(outcomes: ScenarioOutcome[]): string {
  const lines = ['', 'Scenarios (peregrine scenarios list describes each)']
  for (const outcome of outcomes) {
    const reason = outcome.reason === undefined ? '' : `: ${outcome.reason}`
    lines.push(`  ${outcome.status.padEnd(7)} ${outcome.rule}${reason}`)
  }
  return `${lines.join('\n')}\n`
}

/** Formats the end-of-run summary printed after the alerts. */
export function formatSummary(summary: DemoSummary): string {
  const rules = Object.entries(summary.alertsByRule).sort(([left], [right]) =>
    left.localeCompare(right),
  )
  const alerts = rules.reduce((sum, [, count]) => sum + count, 0)
  const width = Math.max(0, ...rules.map(([rule]) => rule.length))
  const lines = [
    '',
    'Peregrine demo summary',
    `  source:               ${summary.source}`,
    `  events read:          ${summary.published.eventsRead}`,
    `  events published:     ${summary.published.eventsPublished}`,
    `  events dead-lettered: ${summary.published.eventsDeadLettered + summary.eventsDeadLettered}`,
    `  events evaluated:     ${summary.eventsProcessed}`,
    `  alerts raised:        ${alerts}`,
    ...rules.map(([rule, count]) => `    ${rule.padEnd(width)}  ${count}`),
    `  alerts printed:       ${summary.alertsDelivered}`,
    '',
  ]
  return lines.join('\n')
}
