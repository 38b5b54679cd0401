import { homedir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from './errors.js'
import { LOG_LEVELS } from './logger.js'
import { PROJECT_ROOT } from './project-root.js'
import { loadConfig } from './config.js'
import {
  booleanSetting,
  choiceSetting,
  integerSetting,
  listSetting,
  mapSetting,
  numberSetting,
  textSetting,
  urlSetting,
} from './settings.js'
import type { ConfigOf, ConfigSources } from './config.js'

// NOTE: lz4 and zstd are left out because KafkaJS has no built-in codec for them on Node 20: the
// pure-JS lz4js writes dependent-block frames that Kafka 4.4 rejects ("Dependent block stream is
// unsupported"), and the zstd codecs need native builds.
export const COMPRESSION_CODECS = ['none', 'gzip'] as const
/** A host name or address (IPv6 in brackets) and a port. */
const HOST_PORT_PATTERN = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/

export const PRIORITIES = [
  'emergency',
  'alert',
  'critical',
  'error',
  'warning',
  'notice',
  'informational',
  'debug',
] as const

/**
 * Every setting of every role. Roles read only their own areas, but share one tree so a single
 * config file or environment can drive the whole pipeline and the same flag means the same thing
 * everywhere. The Helm chart mirrors these names, descriptions and defaults.
 */
export const SETTINGS = {
  log: {
    level: choiceSetting({
      env: 'PEREGRINE_LOG_LEVEL',
      description: 'lowest log level written (stdout; stderr for the stdout sink and the demo)',
      choices: LOG_LEVELS,
      default: 'info',
    }),
  },
  metrics: {
    host: textSetting({
      env: 'PEREGRINE_METRICS_HOST',
      description: 'address the /metrics HTTP endpoint listens on',
      default: '127.0.0.1',
    }),
    port: integerSetting({
      env: 'PEREGRINE_METRICS_PORT',
      description:
        'TCP port of the /metrics endpoint; 0 picks a free port, -1 turns it off; unset, each role uses its own default (probe 9464, process 9465, sink 9466) and falls back to a free port when that one is taken',
      min: -1,
      max: 65535,
      optional: true,
    }),
  },
  kafka: {
    brokers: listSetting({
      env: 'PEREGRINE_KAFKA_BROKERS',
      description: 'bootstrap brokers as host:port, comma-separated',
      minItems: 1,
      itemPattern: HOST_PORT_PATTERN,
      itemDescription: 'host:port, such as 127.0.0.1:9092',
      default: ['127.0.0.1:9092'],
    }),
    clientId: textSetting({
      env: 'PEREGRINE_KAFKA_CLIENT_ID',
      description: 'client id sent to the brokers; the role name is appended',
      default: 'peregrine',
    }),
    tls: booleanSetting({
      env: 'PEREGRINE_KAFKA_TLS',
      description: 'connect to the brokers over TLS, verifying their certificates',
      default: false,
    }),
    tlsInsecureSkipVerify: booleanSetting({
      env: 'PEREGRINE_KAFKA_TLS_INSECURE_SKIP_VERIFY',
      description: 'accept any broker certificate; for test clusters only',
      default: false,
    }),
    saslMechanism: choiceSetting({
      env: 'PEREGRINE_KAFKA_SASL_MECHANISM',
      description: 'SASL mechanism, or none',
      choices: ['none', 'plain', 'scram-sha-256', 'scram-sha-512'] as const,
      default: 'none',
    }),
    saslUsername: textSetting({
      env: 'PEREGRINE_KAFKA_SASL_USERNAME',
      description: 'SASL user name',
      optional: true,
    }),
    saslPassword: textSetting({
      env: 'PEREGRINE_KAFKA_SASL_PASSWORD',
      description: 'SASL password',
      optional: true,
      isSecret: true,
    }),
    connectionTimeoutMs: integerSetting({
      env: 'PEREGRINE_KAFKA_CONNECTION_TIMEOUT_MS',
      description: 'time allowed to open a TCP connection to a broker, in milliseconds',
      min: 100,
      default: 3000,
    }),
    retries: integerSetting({
      env: 'PEREGRINE_KAFKA_RETRIES',
      description: 'retries of a failed broker request before the operation fails',
      min: 0,
      default: 5,
    }),
  },
  registry: {
    url: urlSetting({
      env: 'PEREGRINE_REGISTRY_URL',
      description: 'base URL of the Confluent-compatible schema registry API',
      default: 'http://127.0.0.1:8081/apis/ccompat/v7',
    }),
    username: textSetting({
      env: 'PEREGRINE_REGISTRY_USERNAME',
      description: 'basic-auth user name for the schema registry',
      optional: true,
    }),
    password: textSetting({
      env: 'PEREGRINE_REGISTRY_PASSWORD',
      description: 'basic-auth password for the schema registry',
      optional: true,
      isSecret: true,
    }),
  },
  topics: {
    events: textSetting({
      env: 'PEREGRINE_TOPICS_EVENTS',
      description: 'topic of syscall events',
      default: 'peregrine.events.v1',
    }),
    alerts: textSetting({
      env: 'PEREGRINE_TOPICS_ALERTS',
      description: 'topic of alerts',
      default: 'peregrine.alerts.v1',
    }),
    eventsDeadLetter: textSetting({
      env: 'PEREGRINE_TOPICS_EVENTS_DEAD_LETTER',
      description: 'dead-letter topic for events that cannot be decoded or evaluated',
      default: 'peregrine.events.dlq',
    }),
    alertsDeadLetterPrefix: textSetting({
      env: 'PEREGRINE_TOPICS_ALERTS_DEAD_LETTER_PREFIX',
      description: 'prefix of the per-sink dead-letter topics; the sink name is appended',
      default: 'peregrine.alerts.dlq.',
    }),
    create: booleanSetting({
      env: 'PEREGRINE_TOPICS_CREATE',
      description: 'create missing topics at start-up',
      default: true,
    }),
    partitions: integerSetting({
      env: 'PEREGRINE_TOPICS_PARTITIONS',
      description: 'partitions of topics created at start-up; caps how many processors share work',
      min: 1,
      default: 6,
    }),
    replicationFactor: integerSetting({
      env: 'PEREGRINE_TOPICS_REPLICATION_FACTOR',
      description: 'replication factor of topics created at start-up',
      min: 1,
      default: 1,
    }),
  },
  producer: {
    compression: choiceSetting({
      env: 'PEREGRINE_PRODUCER_COMPRESSION',
      description: 'compression codec of produced record batches',
      choices: COMPRESSION_CODECS,
      default: 'gzip',
    }),
    maxBatchEvents: integerSetting({
      env: 'PEREGRINE_PRODUCER_MAX_BATCH_EVENTS',
      description: 'events buffered before a batch is sent',
      min: 1,
      default: 2000,
    }),
    maxBatchBytes: integerSetting({
      env: 'PEREGRINE_PRODUCER_MAX_BATCH_BYTES',
      description:
        'encoded bytes per partition in one produce request; keep below the broker message.max.bytes',
      min: 1024,
      default: 900_000,
    }),
    flushIntervalMs: integerSetting({
      env: 'PEREGRINE_PRODUCER_FLUSH_INTERVAL_MS',
      description: 'maximum time an event waits in the batch buffer, in milliseconds',
      min: 1,
      default: 100,
    }),
    maxBufferedEvents: integerSetting({
      env: 'PEREGRINE_PRODUCER_MAX_BUFFERED_EVENTS',
      description:
        'events held unacknowledged while Kafka is slow; then a file source waits and a live source drops events',
      min: 1,
      default: 50_000,
    }),
    fairShareEventsPerSecond: integerSetting({
      env: 'PEREGRINE_PRODUCER_FAIR_SHARE_EVENTS_PER_SECOND',
      description:
        'live events per process per second still published when the buffer is full, from a reserve of a tenth of it; 0 turns it off',
      min: 0,
      default: 200,
    }),
    // The drop alert defaults are Falco's syscall_event_drops defaults: threshold .1, rate
    // .03333 (one alert per 30 s) and max_burst 1.
    dropAlertThreshold: numberSetting({
      env: 'PEREGRINE_PRODUCER_DROP_ALERT_THRESHOLD',
      description:
        'share of the last second of live events that must be dropped to raise a drop alert, 0 to 1',
      min: 0,
      max: 1,
      default: 0.1,
    }),
    dropAlertRatePerSecond: numberSetting({
      env: 'PEREGRINE_PRODUCER_DROP_ALERT_RATE_PER_SECOND',
      description: 'drop alerts allowed per second on average (token bucket refill rate)',
      min: 0,
      default: 0.03333,
    }),
    dropAlertMaxBurst: numberSetting({
      env: 'PEREGRINE_PRODUCER_DROP_ALERT_MAX_BURST',
      description: 'drop alerts allowed back to back (token bucket size)',
      min: 1,
      default: 1,
    }),
    dropCheckIntervalMs: integerSetting({
      env: 'PEREGRINE_PRODUCER_DROP_CHECK_INTERVAL_MS',
      description: 'how often live-source drop counters are read, in milliseconds',
      min: 100,
      default: 1000,
    }),
    ebpfRingMib: integerSetting({
      env: 'PEREGRINE_PRODUCER_EBPF_RING_MIB',
      description:
        'kernel ring buffer of the live eBPF probe, in MiB; a power of two from 1 to 1024',
      min: 1,
      max: 1024,
      default: 32,
    }),
    hostname: textSetting({
      env: 'PEREGRINE_PRODUCER_HOSTNAME',
      description: 'host name written into events; defaults to the capture host or this machine',
      optional: true,
    }),
  },
  processor: {
    groupId: textSetting({
      env: 'PEREGRINE_PROCESSOR_GROUP_ID',
      description: 'consumer group of the rule processors',
      default: 'peregrine-processor',
    }),
    rulesFiles: listSetting({
      env: 'PEREGRINE_PROCESSOR_RULES_FILES',
      description:
        'Falco rules files or folders, loaded in order; empty means the bundled default rules',
      default: [],
    }),
    minPriority: choiceSetting({
      env: 'PEREGRINE_PROCESSOR_MIN_PRIORITY',
      description: 'lowest rule priority that raises alerts',
      choices: PRIORITIES,
      default: 'debug',
    }),
  },
  sink: {
    groupIdPrefix: textSetting({
      env: 'PEREGRINE_SINK_GROUP_ID_PREFIX',
      description: 'prefix of each sink consumer group; the sink name is appended',
      default: 'peregrine-sink-',
    }),
    minPriority: choiceSetting({
      env: 'PEREGRINE_SINK_MIN_PRIORITY',
      description: 'lowest alert priority a sink delivers',
      choices: PRIORITIES,
      default: 'debug',
    }),
    // With these defaults an alert is retried for about four minutes (1 + 2 + 4 ... + 60 s, with
    // jitter), long enough to ride out a receiver restart before it is dead-lettered.
    maxAttempts: integerSetting({
      env: 'PEREGRINE_SINK_MAX_ATTEMPTS',
      description: 'delivery attempts of one alert before it goes to the dead-letter topic',
      min: 1,
      default: 10,
    }),
    retryInitialMs: integerSetting({
      env: 'PEREGRINE_SINK_RETRY_INITIAL_MS',
      description: 'first retry delay, doubled on each attempt, in milliseconds',
      min: 1,
      default: 1000,
    }),
    retryMaxMs: integerSetting({
      env: 'PEREGRINE_SINK_RETRY_MAX_MS',
      description: 'maximum retry delay, in milliseconds',
      min: 1,
      default: 60_000,
    }),
    requestTimeoutMs: integerSetting({
      env: 'PEREGRINE_SINK_REQUEST_TIMEOUT_MS',
      description: 'time allowed for one delivery request, in milliseconds',
      min: 1,
      default: 10_000,
    }),
    webhookUrl: urlSetting({
      env: 'PEREGRINE_SINK_WEBHOOK_URL',
      description: 'URL the webhook sink POSTs alerts to',
      optional: true,
      isSecret: true,
    }),
    webhookHeaders: mapSetting({
      env: 'PEREGRINE_SINK_WEBHOOK_HEADERS',
      description: 'extra HTTP headers of webhook requests, as a JSON object',
      default: {},
      isSecret: true,
    }),
    tlsInsecureSkipVerify: booleanSetting({
      env: 'PEREGRINE_SINK_TLS_INSECURE_SKIP_VERIFY',
      description: 'accept any TLS certificate from sink endpoints; for test endpoints only',
      default: false,
    }),
  },
  stack: {
    dataDir: textSetting({
      env: 'PEREGRINE_STACK_DATA_DIR',
      description:
        'folder of the local stack: broker data, logs and process ids; relative paths start at the working folder',
      default: join(PROJECT_ROOT, '.peregrine', 'stack'),
    }),
    cacheDir: textSetting({
      env: 'PEREGRINE_STACK_CACHE_DIR',
      description:
        'folder where the Kafka and registry artifacts fetched with Maven are kept, shared by every checkout',
      default: join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'peregrine'),
    }),
    kafkaPort: integerSetting({
      env: 'PEREGRINE_STACK_KAFKA_PORT',
      description: 'client port of the local broker on 127.0.0.1',
      min: 1,
      max: 65535,
      default: 9092,
    }),
    controllerPort: integerSetting({
      env: 'PEREGRINE_STACK_CONTROLLER_PORT',
      description: 'KRaft controller port of the local broker on 127.0.0.1',
      min: 1,
      max: 65535,
      default: 9093,
    }),
    registryPort: integerSetting({
      env: 'PEREGRINE_STACK_REGISTRY_PORT',
      description: 'HTTP port of the local schema registry on 127.0.0.1',
      min: 1,
      max: 65535,
      default: 8081,
    }),
    kafkaVersion: textSetting({
      env: 'PEREGRINE_STACK_KAFKA_VERSION',
      description: 'Apache Kafka version fetched from Maven Central',
      default: '4.4.0',
    }),
    // Apicurio Registry 3.3.3 is compiled for Java 21 (class file version 65) and stops with
    // UnsupportedClassVersionError on Java 17, which Debian bookworm ships and Kafka 4.x needs at
    // least. 3.0.9 runs on Java 17.
    registryVersion: textSetting({
      env: 'PEREGRINE_STACK_REGISTRY_VERSION',
      description: 'Apicurio Registry version fetched from Maven Central; 3.3.x needs Java 21',
      default: '3.0.9',
    }),
    heapMb: integerSetting({
      env: 'PEREGRINE_STACK_HEAP_MB',
      description: 'Java heap of the broker and of the registry, in MiB',
      min: 128,
      default: 512,
    }),
    startTimeoutMs: integerSetting({
      env: 'PEREGRINE_STACK_START_TIMEOUT_MS',
      description: 'time allowed for the broker and the registry to become ready, in milliseconds',
      min: 1000,
      default: 120_000,
    }),
    stopTimeoutMs: integerSetting({
      env: 'PEREGRINE_STACK_STOP_TIMEOUT_MS',
      description: 'time each JVM has to exit after SIGTERM before SIGKILL, in milliseconds',
      min: 0,
      default: 30_000,
    }),
    fetchTimeoutMs: integerSetting({
      env: 'PEREGRINE_STACK_FETCH_TIMEOUT_MS',
      description: 'time allowed for one Maven run that fetches artifacts, in milliseconds',
      min: 1000,
      default: 900_000,
    }),
  },
}

export type PeregrineConfig = ConfigOf<typeof SETTINGS>

/**
 * Loads the Peregrine configuration; see loadConfig for precedence and errors. Also checks the
 * settings that only make sense together, such as SASL credentials, and throws ConfigError.
 */
export function loadPeregrineConfig(sources: ConfigSources = {}): PeregrineConfig {
  const config = loadConfig(SETTINGS, sources)
  const { saslMechanism, saslUsername, saslPassword } = config.kafka
  if (saslMechanism !== 'none' && (saslUsername === undefined || saslPassword === undefined)) {
    throw new ConfigError(
      `invalid configuration:\n  PEREGRINE_KAFKA_SASL_MECHANISM=${saslMechanism} needs PEREGRINE_KAFKA_SASL_USERNAME and PEREGRINE_KAFKA_SASL_PASSWORD`,
    )
  }
  return config
}
