import kafkajs from 'kafkajs'
import type {
  Admin,
  Kafka as KafkaClient,
  KafkaConfig,
  LogEntry,
  SASLOptions,
  ITopicConfig,
  Producer,
} from 'kafkajs'
import { KafkaError, errorMessage } from './errors.js'
import type { Logger } from './logger.js'
import type { PeregrineConfig } from './peregrine-config.js'

const { Kafka, Partitioners, logLevel: KafkaLogLevel } = kafkajs

export type { Kafka as KafkaClient, Producer, Consumer, Admin, EachBatchPayload } from 'kafkajs'

const INITIAL_RETRY_TIME_MS = 300
const MAX_RETRY_TIME_MS = 10_000

/**
 * Creates the KafkaJS client for one role. KafkaJS log lines go through the role's pino logger, and
 * its ERROR lines become warn because KafkaJS logs every retried request as an error. A final
 * failure reaches our code as an exception, which is logged once where it is handled.
 */
export function createKafkaClient(
  config: PeregrineConfig,
  role: string,
  logger: Logger,
): KafkaClient {
  const kafkaLogger = logger.child({ library: 'kafkajs' })
  const settings: KafkaConfig = {
    clientId: `${config.kafka.clientId}-${role}`,
    brokers: [...config.kafka.brokers],
    connectionTimeout: config.kafka.connectionTimeoutMs,
    ssl: config.kafka.tls ? { rejectUnauthorized: !config.kafka.tlsInsecureSkipVerify } : false,
    sasl: saslOptions(config),
    retry: {
      retries: config.kafka.retries,
      initialRetryTime: INITIAL_RETRY_TIME_MS,
      maxRetryTime: MAX_RETRY_TIME_MS,
    },
    logLevel: KafkaLogLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...fields } = entry.log
      const level =
        entry.level <= KafkaLogLevel.WARN
          ? 'warn'
          : entry.level === KafkaLogLevel.INFO
            ? 'info'
            : 'debug'
      kafkaLogger[level]({ ...fields, namespace: entry.namespace }, message)
    },
  }
  return new Kafka(settings)
}

/**
 * Connects an admin client and creates the topics that do not exist yet. Existing topics are left
 * as they are. Throws KafkaError naming the brokers when they cannot be reached.
 */
export async function ensureTopics(
  client: KafkaClient,
  config: PeregrineConfig,
  topics: string[],
): Promise<void> {
  const admin = await connectAdmin(client, config)
  try {
    if (!config.topics.create) return
    const existing = new Set(await admin.listTopics())
    const missing: ITopicConfig[] = topics
      .filter((topic) => !existing.has(topic))
      .map((topic) => ({
        topic,
        numPartitions: config.topics.partitions,
        replicationFactor: config.topics.replicationFactor,
      }))
    if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true })
  } catch (error) {
    throw new KafkaError(`creating topics ${topics.join(', ')} failed: ${errorMessage(error)}`, {
      cause: error,
    })
  } finally {
    await admin.disconnect()
  }
}

/** Connects an admin client, turning a connection failure into an actionable KafkaError. */
export async function connectAdmin(client: KafkaClient, config: PeregrineConfig): Promise<Admin> {
  const admin = client.admin()
  await connectOrExplain(() => admin.connect(), config)
  return admin
}

/**
 * Runs a KafkaJS connect call. KafkaJS retries on its own; once it gives up this throws a
 * KafkaError that names the brokers and the settings to check.
 */
export async function connectOrExplain(
  connect: () => Promise<void>,
  config: PeregrineConfig,
): Promise<void> {
  try {
    await connect()
  } catch (error) {
    const brokers = config.kafka.brokers.join(',')
    throw new KafkaError(
      `cannot connect to Kafka brokers ${brokers} after ${config.kafka.retries} retries: ${errorMessage(error)}. ` +
        'Check PEREGRINE_KAFKA_BROKERS (or --brokers) and that the broker is running; ' +
        'for the local stack run "peregrine stack up".',
      { cause: error, retriable: true },
    )
  }
}

function saslOptions(config: PeregrineConfig): SASLOptions | undefined {
  const mechanism = config.kafka.saslMechanism
  if (mechanism === 'none') return undefined
  return {
    mechanism,
    username: config.kafka.saslUsername ?? '',
    password: config.kafka.saslPassword ?? '',
  } as SASLOptions
}

/**
 * Creates a producer with Kafka's default partitioner (murmur2 of the key, as the Java client
 * uses), so records keyed by host and process land on the same partition whichever client
 * produced them. Topics are never created by a produce call; ensureTopics does that.
 */
export function createProducer(client: KafkaClient): Producer {
  return client.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
}
