import type { Logger } from './logger.js'

export interface Closable {
  close: () => Promise<void>
}

/**
 * Runs `close` on the first SIGTERM or SIGINT, then exits with 0, or with 1 if closing failed.
 * A second signal exits at once with 130. Unhandled rejections and uncaught exceptions log at
 * fatal, flush the logger and exit with 1, so a supervisor restarts the process.
 */
export function installShutdownHandlers(
  logger: Logger,
  close: () => Promise<void>,
): AbortController {
  const controller = new AbortController()
  let isClosing = false

  const onSignal = (signal: NodeJS.Signals): void => {
    if (isClosing) {
      logger.warn({ signal }, 'second signal received, exiting without draining')
      logger.flush()
      process.exit(130)
    }
    isClosing = true
    logger.info({ signal }, 'shutting down')
    controller.abort(new Error(`received ${signal}`))
    close().then(
      () => {
        logger.info('stopped')
        logger.flush()
        process.exit(0)
      },
      (error: unknown) => {
        logger.fatal({ err: error }, 'shutdown failed')
        logger.flush()
        process.exit(1)
      },
    )
  }

  const onFatal = (error: unknown): void => {
    logger.fatal({ err: error }, 'unhandled error, exiting')
    logger.flush()
    process.exit(1)
  }

  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  process.on('unhandledRejection', onFatal)
  process.on('uncaughtException', onFatal)
  return controller
}

/**
 * Closes components in order, continuing past failures, and throws the first failure after all
 * have been tried, so one broken client does not keep the others open.
 */
export async function closeAll(components: Array<Closable | undefined>): Promise<void> {
  let firstError: unknown
  for (const component of components) {
    try {
      await component?.close()
    } catch (error) {
      firstError ??= error
    }
  }
  if (firstError !== undefined) throw firstError
}
