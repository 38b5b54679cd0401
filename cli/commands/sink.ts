import { validateHeaderName, validateHeaderValue } from 'node:http'
import { Option } from 'commander'
import type { Command } from 'commander'
import { ConfigError } from '../../core/errors.js'
import type { PeregrineConfig } from '../../core/peregrine-config.js'
import type { SinkDestination } from '../../core/sink-runner.js'
import { startSink } from '../../sinks/main.js'
import { STDOUT_FORMATS, StdoutSink } from '../../sinks/stdout-sink.js'
import type { StdoutFormat } from '../../sinks/stdout-sink.js'
import { WebhookSink } from '../../sinks/webhook-sink.js'
import { addCommonOptions, loadCommandConfig, VERSION } from '../options.js'
import type { CommonOptions } from '../options.js'
import { runRole } from '../role-runtime.js'
import type { RoleRuntime } from '../role-runtime.js'

interface SinkOptions extends CommonOptions {
  minPriority?: string
  url?: string
  format?: StdoutFormat
}

export const SINK_KINDS = ['stdout', 'webhook'] as const

/** Adds `peregrine sink <kind>`. */
export function registerSinkCommand(program: Command): void {
  const sink = program
    .command('sink')
    .description('deliver alerts from the alerts topic to one destination')
  for (const kind of SINK_KINDS) {
    const command = sink
      .command(kind)
      .description(
        kind === 'stdout'
          ? 'print each alert as one line of Falco JSON or Falco text'
          : 'POST each alert as Falco JSON to a URL',
      )
    addCommonOptions(command).option(
      '--min-priority <priority>',
      'lowest priority delivered (PEREGRINE_SINK_MIN_PRIORITY)',
    )
    if (kind === 'webhook')
      command.option('--url <url>', 'URL to POST alerts to (PEREGRINE_SINK_WEBHOOK_URL)')
    if (kind === 'stdout') {
      const format = new Option('--format <format>', 'json (Falco JSON) or text (Falco text line)')
      command.addOption(format.choices(STDOUT_FORMATS).default('json'))
    }
    command.action(async (options: SinkOptions) => {
      const config = loadCommandConfig(options, {
        'sink.minPriority': { flag: '--min-priority', value: options.minPriority?.toLowerCase() },
        'sink.webhookUrl': { flag: '--url', value: options.url },
      })
      const destination = createDestination(kind, config, options.format)
      const start = async (runtime: RoleRuntime): Promise<() => Promise<void>> => {
        if (kind === 'stdout') exitWhenStdoutCloses(runtime)
        const running = await startSink({ ...runtime, destination })
        return running.close
      }
      await runRole(config, `sink-${kind}`, start, { logToStderr: kind === 'stdout' })
    })
  }
}

/** Builds the destination of a sink kind from the config; throws ConfigError when a setting is missing. */
export function createDestination(
  kind: (typeof SINK_KINDS)[number],
  config: PeregrineConfig,
  format: StdoutFormat = 'json',
): SinkDestination {
  if (kind === 'stdout') return new StdoutSink({ format })
  checkHeaders(config.sink.webhookHeaders)
  if (config.sink.webhookUrl === undefined) {
    throw new ConfigError(
      'the webhook sink needs a URL; pass --url or set PEREGRINE_SINK_WEBHOOK_URL',
    )
  }
  return new WebhookSink({
    url: config.sink.webhookUrl,
    headers: config.sink.webhookHeaders,
    timeoutMs: config.sink.requestTimeoutMs,
    verifyTls: !config.sink.tlsInsecureSkipVerify,
    userAgent: `peregrine/${VERSION}`,
  })
}

/** Rejects header names and values Node would refuse on every request, naming the header. */
function checkHeaders(headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    try {
      validateHeaderName(name)
      validateHeaderValue(name, value)
    } catch {
      // The value is not shown: webhook headers often carry tokens.
      throw new ConfigError(
        `PEREGRINE_SINK_WEBHOOK_HEADERS: header "${name}" has an invalid name or value (control characters such as CR or LF are not allowed)`,
      )
    }
  }
}

/**
 * Exits when stdout breaks (EPIPE after `| head`, for instance). Offsets of alerts not yet written
 * stay uncommitted, so the next run prints them; dead-lettering them would lose nothing but fill
 * the dead-letter topic with alerts that were never undeliverable.
 */
function exitWhenStdoutCloses(runtime: RoleRuntime): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    runtime.logger.fatal(
      { err: error },
      'stdout is closed; exiting without committing the alerts not yet written',
    )
    runtime.logger.flush()
    process.exit(1)
  })
}
