import { pino } from 'pino'
import type { Logger, LoggerOptions, DestinationStream } from 'pino'

export type { Logger } from 'pino'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/**
 * Paths redacted on every log line: credentials, tokens and webhook URLs (a Slack or generic
 * webhook URL is itself the secret). Config summaries and sink options are logged through these.
 */
export const REDACTED_PATHS = [
  '*.password',
  '*.token',
  '*.secret',
  '*.apiKey',
  '*.webhookUrl',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'config.*.password',
  'config.*.token',
  'config.sink.webhookUrl',
  'config.sink.webhookHeaders',
]

export interface LoggerSettings {
  service: string
  version: string
  level: LogLevel
  destination?: DestinationStream
}

/**
 * Creates the root logger of a process. Every line carries `service` and `version`; components
 * take a child that binds `component`. Output is JSON lines on stdout, or on `destination`.
 */
export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: settings.service, version: settings.version, pid: process.pid },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }
  return settings.destination === undefined ? pino(options) : pino(options, settings.destination)
}

/** Returns a logger that writes nothing, for tests and for library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
