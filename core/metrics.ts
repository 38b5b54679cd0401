import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Registry, collectDefaultMetrics } from 'prom-client'

export const METRIC_PREFIX = 'peregrine_'

export interface MetricsServer {
  /** Port the server listens on, useful when 0 asked for a free one. */
  port: number
  close: () => Promise<void>
}

/**
 * Creates the one registry of a process, with Node's process metrics under the `peregrine_`
 * prefix. Components receive it as a parameter and never use prom-client's global registry.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX })
  return registry
}

/**
 * Serves GET /metrics in the Prometheus text format. Rejects when the port cannot be bound (the
 * error names the address); port -1 means metrics are off and returns a server that does nothing.
 */
export async function startMetricsServer(
  registry: Registry,
  host: string,
  port: number,
): Promise<MetricsServer> {
  if (port < 0) return { port: -1, close: async () => {} }

  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try GET /metrics\n')
      return
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: Error) =>
        response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    )
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new Error(
          `cannot serve /metrics on ${host}:${port}: ${error.message}; set PEREGRINE_METRICS_PORT to a free port, 0 for any or -1 to turn metrics off`,
          { cause: error },
        ),
      ),
    )
    server.listen(port, host, resolve)
  })

  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/**
 * Wraps a metrics factory so each registry gets its metrics once: prom-client throws when a name
 * is registered twice, and a process may run a role more than once (tests, the demo).
 */
export function oncePerRegistry<T>(create: (registry: Registry) => T): (registry: Registry) => T {
  const created = new WeakMap<Registry, T>()
  return (registry) => {
    let metrics = created.get(registry)
    if (metrics === undefined) {
      metrics = create(registry)
      created.set(registry, metrics)
    }
    return metrics
  }
}
