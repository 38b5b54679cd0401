import { existsSync } from 'node:fs'
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { StackError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import type { PeregrineConfig } from '../core/peregrine-config.js'
import { withFileLock } from './file-lock.js'
import { lastLines, runCommand } from './run-command.js'
import type { CommandResult } from './run-command.js'

export interface StackArtifacts {
  /** Folder of the Kafka jars and their runtime dependencies, for a `<folder>/*` class path. */
  kafkaLibDir: string
  /** Runnable jar of Apicurio Registry; its `lib/` folder sits beside it. */
  registryJar: string
}

/**
 * SLF4J binding of the broker. Kafka's published POM declares no binding (its log4j jars ship only
 * in the release tarball), so without one SLF4J drops every broker log line.
 */
export const SLF4J_VERSION = '2.0.20'

/**
 * Plugin versions are pinned because an unpinned `dependency:` prefix resolves to whatever the
 * local Maven and the repository metadata pick (plugin 2.8 on Maven 3.8.7).
 */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1'
/**
 * The registry app is copied with plugin 2.8, which fetches the file without reading its POM.
 * Plugin 3.8.1 reads the POM and fails, because the parent POM io.apicurio:apicurio-registry:3.0.9
 * is not on Maven Central.
 */
const REGISTRY_COPY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:2.8'
const COMPLETE_MARKER = '.complete'
const FETCH_LOCK_FILE = 'fetch.lock'
const ERROR_LOG_LINES = 20
const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/**
 * Fetches the Kafka broker jars and the Apicurio Registry app from Maven Central into
 * `stack.cacheDir`, unless an earlier call already completed that fetch; a second call runs no
 * command. A fetch that fails or is cut short leaves no marker, so the next call redoes it.
 * Throws StackError with the last Maven output lines when a fetch fails; not retriable.
 */
export async function fetchArtifacts(
  config: PeregrineConfig,
  logger: Logger,
): Promise<StackArtifacts> {
  const cacheDir = resolve(config.stack.cacheDir)
  const kafkaVersion = checkVersion(config.stack.kafkaVersion, 'PEREGRINE_STACK_KAFKA_VERSION')
  const registryVersion = checkVersion(
    config.stack.registryVersion,
    'PEREGRINE_STACK_REGISTRY_VERSION',
  )
  const timeoutMs = config.stack.fetchTimeoutMs
  const kafkaDir = join(cacheDir, `kafka-${kafkaVersion}`)
  const registryDir = join(cacheDir, `apicurio-registry-${registryVersion}`)

  // Several data folders can share one cache, so fetches into it take turns.
  await mkdir(cacheDir, { recursive: true })
  const lockOptions = { timeoutMs: 2 * timeoutMs, purpose: 'artifact fetch' }
  await withFileLock(join(cacheDir, FETCH_LOCK_FILE), lockOptions, async () => {
    await fetchOnce(kafkaDir, `Kafka ${kafkaVersion} jars`, logger, async () => {
      await fetchKafkaJars(kafkaDir, kafkaVersion, timeoutMs)
    })
    await fetchOnce(registryDir, `Apicurio Registry ${registryVersion}`, logger, async () => {
      await fetchRegistryApp(registryDir, registryVersion, timeoutMs)
    })
  })

  return {
    kafkaLibDir: join(kafkaDir, 'libs'),
    registryJar: join(registryDir, 'app', `apicurio-registry-app-${registryVersion}-runner.jar`),
  }
}

/**
 * Renders the POM whose runtime dependencies are the broker's class path. Its packaging is `pom`,
 * so Maven builds nothing. Declaring slf4j-api directly makes Maven pick this version over older
 * ones that Kafka's dependencies pull, because the nearest declaration wins.
 */
export function renderKafkaPom(kafkaVersion: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.peregrine</groupId>
  <artifactId>peregrine-stack-kafka</artifactId>
  <version>${kafkaVersion}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${kafkaVersion}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
      <version>${SLF4J_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-simple</artifactId>
      <version>${SLF4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`
}

/** Tells whether an earlier fetch into `folder` ran to its end. */
export function isFetchComplete(folder: string): boolean {
  return existsSync(join(folder, COMPLETE_MARKER))
}

async function fetchOnce(
  folder: string,
  what: string,
  logger: Logger,
  fetch: () => Promise<void>,
): Promise<void> {
  if (isFetchComplete(folder)) {
    logger.debug({ folder, artifact: what }, 'artifact already in cache')
    return
  }

  logger.info({ folder, artifact: what }, 'fetching artifact with Maven')
  const startedAt = Date.now()
  await rm(folder, { recursive: true, force: true })
  await mkdir(folder, { recursive: true })
  await fetch()

  const durationMs = Date.now() - startedAt
  const sizeBytes = await folderSizeBytes(folder)
  await writeFile(
    join(folder, COMPLETE_MARKER),
    `${JSON.stringify({ fetchedAt: new Date().toISOString(), durationMs, sizeBytes })}\n`,
  )
  logger.info({ folder, artifact: what, durationMs, sizeBytes }, 'artifact fetched')
}

async function fetchKafkaJars(folder: string, version: string, timeoutMs: number): Promise<void> {
  const pomFile = join(folder, 'pom.xml')
  await writeFile(pomFile, renderKafkaPom(version))
  const args = [
    '-q',
    '-B',
    '-f',
    pomFile,
    `${DEPENDENCY_PLUGIN}:copy-dependencies`,
    '-DincludeScope=runtime',
    `-DoutputDirectory=${join(folder, 'libs')}`,
  ]
  const result = await runCommand('mvn', args, { cwd: folder, timeoutMs })
  checkResult(result, `fetching Kafka ${version} jars with "mvn ${args.join(' ')}"`)
}

async function fetchRegistryApp(folder: string, version: string, timeoutMs: number): Promise<void> {
  const downloadDir = join(folder, 'download')
  const appDir = join(folder, 'app')
  const args = [
    '-q',
    '-B',
    `${REGISTRY_COPY_PLUGIN}:copy`,
    `-Dartifact=io.apicurio:apicurio-registry-app:${version}:tar.gz:all`,
    `-DoutputDirectory=${downloadDir}`,
  ]
  const fetched = await runCommand('mvn', args, { cwd: folder, timeoutMs })
  checkResult(fetched, `fetching Apicurio Registry ${version} with "mvn ${args.join(' ')}"`)

  // The archive has no top-level folder. The system tar is used because the Maven unpack goal
  // ignores PAX headers and cuts the long jar names in lib/.
  const archive = join(downloadDir, `apicurio-registry-app-${version}-all.tar.gz`)
  await mkdir(appDir, { recursive: true })
  const unpacked = await runCommand('tar', ['-xzf', archive, '-C', appDir], { timeoutMs })
  checkResult(unpacked, `unpacking ${archive}`)
  await rm(downloadDir, { recursive: true, force: true })
}

function checkResult(result: CommandResult, action: string): void {
  if (result.exitCode === 0) return
  const ending = result.hasTimedOut
    ? 'timed out; raise PEREGRINE_STACK_FETCH_TIMEOUT_MS if the network is slow'
    : `failed with exit code ${result.exitCode ?? result.signal}`
  throw new StackError(
    `${action} ${ending}. Last output:\n${lastLines(result.output, ERROR_LOG_LINES)}`,
  )
}

/** Rejects versions that could break out of the POM or the Maven arguments. */
function checkVersion(version: string, envName: string): string {
  if (VERSION_PATTERN.test(version)) return version
  throw new StackError(
    `invalid version ${JSON.stringify(version)} in ${envName}: ` +
      'use only letters, digits, dots and dashes',
  )
}

async function folderSizeBytes(folder: string): Promise<number> {
  let total = 0
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size
  }
  return total
}
