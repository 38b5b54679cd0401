import assert from 'node:assert/strict'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { StackError } from '../core/errors.js'
import { checkPrerequisites, parseJavaMajorVersion } from './prerequisites.js'

const INSTALL_COMMAND = 'apt-get install openjdk-17-jre-headless maven'

/** Writes an executable shell script named `name` into `folder`. */
async function writeScript(folder: string, name: string, body: string): Promise<void> {
  const file = join(folder, name)
  await writeFile(file, `#!/bin/sh\n${body}\n`)
  await chmod(file, 0o755)
}

describe('parseJavaMajorVersion', () => {
  const cases: Array<[string, number | undefined]> = [
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "21" 2023-09-19', 21],
    ['java version "1.8.0_292"', 8],
    ['openjdk version "11.0.2" 2019-01-15', 11],
    ['bash: java: command not found', undefined],
  ]
  for (const [output, expected] of cases) {
    it(`reads ${String(expected)} from ${JSON.stringify(output)}`, () => {
      assert.equal(parseJavaMajorVersion(output), expected)
    })
  }
})

describe('checkPrerequisites', () => {
  let emptyDir: string
  let oldJavaDir: string
  let goodToolsDir: string

  before(async () => {
    emptyDir = await mkdtemp(join(tmpdir(), 'peregrine-path-empty-'))
    oldJavaDir = await mkdtemp(join(tmpdir(), 'peregrine-path-old-java-'))
    goodToolsDir = await mkdtemp(join(tmpdir(), 'peregrine-path-good-'))
    await writeScript(oldJavaDir, 'java', `echo 'openjdk version "11.0.2" 2019-01-15' >&2`)
    await writeScript(oldJavaDir, 'mvn', `echo 'Apache Maven 3.8.7'`)
    await writeScript(goodToolsDir, 'java', `echo 'openjdk version "17.0.15" 2025-04-15' >&2`)
    await writeScript(goodToolsDir, 'mvn', `echo 'Apache Maven 3.8.7'`)
  })

  after(async () => {
    for (const folder of [emptyDir, oldJavaDir, goodToolsDir]) {
      await rm(folder, { recursive: true, force: true })
    }
  })

  it('reports missing java and mvn', async () => {
    const error = await checkPrerequisites({ PATH: emptyDir }).then(
      () => assert.fail('expected a StackError'),
      (thrown: unknown) => thrown,
    )

    assert.ok(error instanceof StackError)
    assert.equal(error.code, 'PEREGRINE_STACK_FAILED')
    assert.match(error.message, /java was not found on PATH/)
    assert.match(error.message, /mvn \(Maven\) was not found on PATH/)
    assert.ok(error.message.includes(INSTALL_COMMAND), error.message)
  })

  it('rejects Java 11', async () => {
    const error = await checkPrerequisites({ PATH: oldJavaDir }).then(
      () => assert.fail('expected a StackError'),
      (thrown: unknown) => thrown,
    )

    assert.ok(error instanceof StackError)
    assert.match(error.message, /java on PATH is version 11, but 17 or later is needed/)
    assert.ok(error.message.includes(INSTALL_COMMAND), error.message)
    assert.doesNotMatch(error.message, /Maven\) was not found/)
  })

  it('returns the versions of Java 17 and Maven', async () => {
    const found = await checkPrerequisites({ PATH: goodToolsDir })

    assert.equal(found.javaMajorVersion, 17)
    assert.equal(found.mavenVersion, '3.8.7')
  })
})
