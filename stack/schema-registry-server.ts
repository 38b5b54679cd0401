import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { StackError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import type { StackArtifacts } from './artifacts.js'
import { ManagedProcess } from './managed-process.js'
import { STACK_HOST } from './port-check.js'
import type { PortSetting } from './port-check.js'
import type { StackComponent } from './stack-component.js'

/** Path of the Confluent-compatible API of Apicurio Registry 3.x. */
export const CONFLUENT_API_PATH = '/apis/ccompat/v7'

/**
 * Apicurio Registry serving the Confluent schema registry API on 127.0.0.1. Schemas are stored in
 * an H2 database file under `stack.dataDir`, so they survive a restart.
 */
export class SchemaRegistryServer implements StackComponent {
  readonly name = 'registry'
  readonly title = 'schema registry'
  readonly address: string
  readonly process: ManagedProcess
  readonly ports: PortSetting[]
  readonly logger: Logger
  private readonly registryDir: string
  private readonly databaseUrl: string

  /** `logger` gets `component: registry` bound. */
  constructor(
    private readonly config: PeregrineConfig,
    dataDir: string,
    logger: Logger,
  ) {
    this.logger = logger.child({ component: 'registry' })
    const port = config.stack.registryPort
    this.address = `http://${STACK_HOST}:${port}${CONFLUENT_API_PATH}`
    this.registryDir = join(dataDir, 'registry')
    this.databaseUrl = h2FileUrl(join(this.registryDir, 'registry'))
    this.process = new ManagedProcess({
      name: 'registry',
      dataDir,
      commandMarker: this.databaseUrl,
      logger: this.logger,
    })
    this.ports = [{ port, env: 'PEREGRINE_STACK_REGISTRY_PORT', flag: '--registry-port' }]
  }

  /** Starts the registry; Quarkus reads the `-D` flags as configuration properties. */
  async start(artifacts: StackArtifacts): Promise<number> {
    await mkdir(this.registryDir, { recursive: true })
    const args = [
      `-Xmx${this.config.stack.heapMb}m`,
      `-Dquarkus.http.host=${STACK_HOST}`,
      `-Dquarkus.http.port=${this.config.stack.registryPort}`,
      // Otherwise the registry logs one access line per request, readiness probes included.
      '-Dquarkus.http.access-log.enabled=false',
      `-Dapicurio.datasource.url=${this.databaseUrl}`,
      '-jar',
      artifacts.registryJar,
    ]
    return await this.process.start('java', args, this.registryDir)
  }

  /** Lists the subjects through the Confluent API; throws unless the response is a JSON array. */
  async probe(timeoutMs: number): Promise<void> {
    const response = await fetch(`${this.address}/subjects`, {
      signal: AbortSignal.timeout(timeoutMs),
    })
    if (!response.ok) throw new Error(`GET ${this.address}/subjects returned ${response.status}`)
    const body: unknown = await response.json()
    if (!Array.isArray(body)) {
      throw new Error(`GET ${this.address}/subjects returned ${JSON.stringify(body)}, not a list`)
    }
  }
}

/**
 * Builds the JDBC URL of an H2 database file (H2 adds `.mv.db` to the path). H2 reads `;` as the
 * start of its settings and has no escape for it, so a path with one is rejected.
 */
function h2FileUrl(databasePath: string): string {
  if (databasePath.includes(';')) {
    throw new StackError(
      `the stack data folder ${dirname(dirname(databasePath))} contains ";", which an H2 ` +
        'database URL cannot contain; set PEREGRINE_STACK_DATA_DIR or --data-dir to another folder',
    )
  }
  return `jdbc:h2:file:${databasePath}`
}
