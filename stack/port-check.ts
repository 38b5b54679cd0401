import { createServer } from 'node:net'
import { StackError, errorMessage } from '../core/errors.js'

export interface PortSetting {
  port: number
  /** Environment variable that sets the port, named in the error. */
  env: string
  /** Command-line flag that sets the port, named in the error. */
  flag: string
}

/** Address every process of the local stack listens on. */
export const STACK_HOST = '127.0.0.1'

/**
 * Checks that `port` can be bound on 127.0.0.1 by briefly listening on it. Throws StackError that
 * names the port and the setting to change when another program listens on it; not retriable.
 */
export async function ensurePortFree(setting: PortSetting): Promise<void> {
  const server = createServer()
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ port: setting.port, host: STACK_HOST, exclusive: true }, resolve)
    })
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? 'is already in use by another program'
        : `cannot be bound: ${errorMessage(error)}`
    throw new StackError(
      `port ${setting.port} on ${STACK_HOST} ${reason}; stop that program or choose another port ` +
        `with ${setting.env} or ${setting.flag}`,
      { cause: error, context: { port: setting.port } },
    )
  }
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

/** Asks the system for a free port on 127.0.0.1; the port may be taken again before it is used. */
export async function findFreePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ port: 0, host: STACK_HOST }, resolve)
  })
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') {
    throw new StackError('the system returned no TCP port for a listening socket')
  }
  return address.port
}

/**
 * Checks that no two ports of the stack are equal. Throws StackError naming both settings.
 */
export function ensureDistinctPorts(settings: PortSetting[]): void {
  for (const [index, first] of settings.entries()) {
    const second = settings.slice(index + 1).find((other) => other.port === first.port)
    if (second === undefined) continue
    throw new StackError(
      `${first.env} and ${second.env} are both ${first.port}; give each a port of its own`,
      { context: { port: first.port } },
    )
  }
}
