import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { StackError } from '../core/errors.js'
import { silentLogger } from '../core/logger.js'
import { loadPeregrineConfig } from '../core/peregrine-config.js'
import { SLF4J_VERSION, fetchArtifacts, renderKafkaPom } from './artifacts.js'

describe('renderKafkaPom', () => {
  const pom = renderKafkaPom('4.4.0')

  it('builds nothing itself', () => {
    assert.match(pom, /<packaging>pom<\/packaging>/)
  })

  it('depends on the Kafka server jar of the given version', () => {
    assert.match(pom, /<artifactId>kafka_2\.13<\/artifactId>\s*<version>4\.4\.0<\/version>/)
  })

  it('declares slf4j-api and slf4j-simple at one version', () => {
    const slf4jVersion = SLF4J_VERSION.replace(/\./g, '\\.')
    assert.match(pom, new RegExp(`<artifactId>slf4j-api</artifactId>\\s*<version>${slf4jVersion}<`))
    assert.match(
      pom,
      new RegExp(`<artifactId>slf4j-simple</artifactId>\\s*<version>${slf4jVersion}<`),
    )
  })
})

describe('fetchArtifacts', () => {
  let cacheDir: string

  before(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'peregrine-cache-'))
  })

  after(async () => {
    await rm(cacheDir, { recursive: true, force: true })
  })

  it('runs no Maven fetch when the cache is complete', async () => {
    const config = loadPeregrineConfig({ overrides: { 'stack.cacheDir': cacheDir } })
    for (const folder of ['kafka-4.4.0', 'apicurio-registry-3.0.9']) {
      await mkdir(join(cacheDir, folder), { recursive: true })
      await writeFile(join(cacheDir, folder, '.complete'), '{}\n')
    }

    const artifacts = await fetchArtifacts(config, silentLogger())

    assert.equal(artifacts.kafkaLibDir, join(cacheDir, 'kafka-4.4.0', 'libs'))
    assert.equal(
      artifacts.registryJar,
      join(cacheDir, 'apicurio-registry-3.0.9', 'app', 'apicurio-registry-app-3.0.9-runner.jar'),
    )
    assert.equal(existsSync(join(cacheDir, 'kafka-4.4.0', 'pom.xml')), false)
  })

  it('rejects a version that could break the POM', async () => {
    const config = loadPeregrineConfig({
      overrides: { 'stack.cacheDir': cacheDir, 'stack.kafkaVersion': '4.4.0</version>' },
    })

    await assert.rejects(fetchArtifacts(config, silentLogger()), (error: unknown) => {
      assert.ok(error instanceof StackError)
      assert.match(
        error.message,
        /invalid version "4\.4\.0<\/version>" in PEREGRINE_STACK_KAFKA_VERSION/,
      )
      return true
    })
  })
})
