import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { StackError } from '../core/errors.js'
import { connectOrExplain, createKafkaClient } from '../core/kafka.js'
import { withTimeout } from '../core/retry.js'
import type { Logger } from '../core/logger.js'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import type { StackArtifacts } from './artifacts.js'
import { ManagedProcess } from './managed-process.js'
import { STACK_HOST } from './port-check.js'
import type { PortSetting } from './port-check.js'
import { lastLines, runCommand } from './run-command.js'
import type { StackComponent } from './stack-component.js'

export interface BrokerPropertiesOptions {
  kafkaPort: number
  controllerPort: number
  /** Absolute folder of the partition logs and the KRaft metadata log. */
  logDir: string
}

const NODE_ID = 1
const PROPERTIES_HEADER = '# Written by "peregrine stack up" on every start; edits are overwritten.'
const FORMAT_TIMEOUT_MS = 120_000
/** Heap of the one-shot storage format tool; the scripts shipped with Kafka give tools 256 MiB. */
const FORMAT_HEAP_MB = 256
const ERROR_LOG_LINES = 20

/**
 * A single Kafka node in KRaft mode that is broker and controller at once, listening on 127.0.0.1
 * only. Its folder in `stack.dataDir` contains `server.properties` and the data in `kraft-logs/`.
 */
export class KafkaBroker implements StackComponent {
  readonly name = 'broker'
  readonly title = 'Kafka broker'
  readonly address: string
  readonly process: ManagedProcess
  readonly ports: PortSetting[]
  readonly logger: Logger
  private readonly brokerDir: string
  private readonly propertiesFile: string

  /** `logger` gets `component: broker` bound. */
  constructor(
    private readonly config: PeregrineConfig,
    dataDir: string,
    logger: Logger,
  ) {
    this.logger = logger.child({ component: 'broker' })
    const { kafkaPort, controllerPort } = config.stack
    this.address = `${STACK_HOST}:${kafkaPort}`
    this.brokerDir = join(dataDir, 'broker')
    this.propertiesFile = join(this.brokerDir, 'server.properties')
    this.process = new ManagedProcess({
      name: 'broker',
      dataDir,
      commandMarker: this.propertiesFile,
      logger: this.logger,
    })
    this.ports = [
      { port: kafkaPort, env: 'PEREGRINE_STACK_KAFKA_PORT', flag: '--kafka-port' },
      { port: controllerPort, env: 'PEREGRINE_STACK_CONTROLLER_PORT', flag: '--controller-port' },
    ]
  }

  /** Writes server.properties, formats the storage on first use and starts the broker. */
  async start(artifacts: StackArtifacts): Promise<number> {
    const logDir = join(this.brokerDir, 'kraft-logs')
    await mkdir(logDir, { recursive: true })
    const properties = renderBrokerProperties({
      kafkaPort: this.config.stack.kafkaPort,
      controllerPort: this.config.stack.controllerPort,
      logDir,
    })
    await writeFile(this.propertiesFile, properties)
    await this.formatStorage(artifacts, logDir)

    const heap = `-Xmx${this.config.stack.heapMb}m`
    const args = [
      heap,
      ...BROKER_JVM_FLAGS,
      '-cp',
      classPath(artifacts),
      'kafka.Kafka',
      this.propertiesFile,
    ]
    return await this.process.start('java', args, this.brokerDir)
  }

  /** Connects an admin client and reads the cluster and its topics. */
  async probe(timeoutMs: number): Promise<void> {
    const probeConfig = {
      ...this.config,
      kafka: {
        ...this.config.kafka,
        brokers: [this.address],
        tls: false,
        saslMechanism: 'none' as const,
        retries: 0,
        connectionTimeoutMs: timeoutMs,
      },
    }
    // KafkaJS logs each refused connection as a warning, which is expected while the broker starts.
    const quietLogger = this.logger.child({}, { level: 'error' })
    const client = createKafkaClient(probeConfig, 'stack-probe', quietLogger)
    const admin = client.admin()
    try {
      await withTimeout(
        (async () => {
          await connectOrExplain(() => admin.connect(), probeConfig)
          await admin.describeCluster()
          await admin.listTopics()
        })(),
        timeoutMs,
        `reading the cluster from ${this.address}`,
      )
    } finally {
      await admin.disconnect()
    }
  }

  /**
   * Formats the storage unless an earlier run did. `-g` would skip a formatted folder anyway, but
   * checking for meta.properties first saves starting a JVM on every `up`.
   */
  private async formatStorage(artifacts: StackArtifacts, logDir: string): Promise<void> {
    if (existsSync(join(logDir, 'meta.properties'))) return

    const clusterId = randomClusterId()
    const args = [
      `-Xmx${FORMAT_HEAP_MB}m`,
      '-cp',
      classPath(artifacts),
      ...storageFormatArgs(clusterId, this.propertiesFile),
    ]
    const result = await runCommand('java', args, {
      cwd: this.brokerDir,
      timeoutMs: FORMAT_TIMEOUT_MS,
    })
    if (result.exitCode !== 0) {
      throw new StackError(
        `formatting the Kafka storage in ${logDir} failed with exit code ` +
          `${result.exitCode ?? result.signal}. Last output:\n` +
          lastLines(result.output, ERROR_LOG_LINES),
        { context: { component: 'broker' } },
      )
    }
    this.logger.info({ logDir, clusterId }, 'kafka storage formatted')
  }
}

/**
 * Renders the properties of a combined broker and controller with a static quorum of one voter.
 * Internal topics get one replica and one partition, because a single node cannot host three
 * replicas and 50 offset partitions slow the first consumer group join.
 */
export function renderBrokerProperties(options: BrokerPropertiesOptions): string {
  const { kafkaPort, controllerPort, logDir } = options
  const lines = [
    'process.roles=broker,controller',
    `node.id=${NODE_ID}`,
    `controller.quorum.voters=${NODE_ID}@${STACK_HOST}:${controllerPort}`,
    `listeners=PLAINTEXT://${STACK_HOST}:${kafkaPort},CONTROLLER://${STACK_HOST}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${STACK_HOST}:${kafkaPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${escapePropertyValue(logDir)}`,
    'num.partitions=3',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
  ]
  return `${PROPERTIES_HEADER}\n${lines.join('\n')}\n`
}

/** JVM flags of kafka-server-start.sh, less the 1 GiB heap that `stack.heapMb` replaces. */
const BROKER_JVM_FLAGS = [
  '-server',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-Djava.awt.headless=true',
  '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
  '-Dorg.slf4j.simpleLogger.showDateTime=true',
  "-Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd'T'HH:mm:ss.SSSXXX",
]

/** Returns the class path of the Kafka jars; the Java launcher expands `folder/*` to each jar. */
function classPath(artifacts: StackArtifacts): string {
  return join(artifacts.kafkaLibDir, '*')
}

/**
 * Returns the StorageTool arguments that format a node's storage. The id follows `=` because one in
 * 64 random ids starts with `-`, and the tool's parser reads such a separate argument as an option.
 */
export function storageFormatArgs(clusterId: string, propertiesFile: string): string[] {
  return [
    'kafka.tools.StorageTool',
    'format',
    `--cluster-id=${clusterId}`,
    '-c',
    propertiesFile,
    '-g',
  ]
}

/** Generates a Kafka cluster id: 16 random bytes in unpadded base64url, like `random-uuid`. */
function randomClusterId(): string {
  return randomBytes(16).toString('base64url')
}

/** Escapes the characters that java.util.Properties treats specially in a value. */
function escapePropertyValue(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/\n/g, '\\n')
    .replace(/^\s/, (space) => `\\${space}`)
}
