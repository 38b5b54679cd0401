import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { silentLogger } from '../core/logger.js'
import { ManagedProcess } from './managed-process.js'

/** Larger than any pid Linux hands out (pid_max is at most 2^22), so never a live process. */
const UNUSED_PID = 2 ** 30
const STOP_TIMEOUT_MS = 5000
const LOG_POLL_INTERVAL_MS = 20

/** Arguments of a Node program that prints a line and then runs until it is stopped. */
function sleeperArgs(marker: string, ignoresSigterm = false): string[] {
  const program = [
    ignoresSigterm ? "process.on('SIGTERM', () => {})" : '',
    "console.log('sleeper started')",
    'setInterval(() => {}, 1000)',
  ].join(';')
  return ['-e', program, marker]
}

async function waitForLogLine(managed: ManagedProcess, line: string): Promise<void> {
  const deadline = Date.now() + STOP_TIMEOUT_MS
  while (!(await managed.readLogTail(10)).includes(line)) {
    if (Date.now() > deadline) assert.fail(`"${line}" did not appear in ${managed.logFile}`)
    await sleep(LOG_POLL_INTERVAL_MS)
  }
}

describe('ManagedProcess', () => {
  let dataDir: string
  let marker: string
  let managed: ManagedProcess

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'peregrine-managed-'))
    marker = `peregrine-test-${randomUUID()}`
    managed = new ManagedProcess({
      name: 'sleeper',
      dataDir,
      commandMarker: marker,
      logger: silentLogger(),
    })
  })

  afterEach(async () => {
    await managed.stop(STOP_TIMEOUT_MS)
    await rm(dataDir, { recursive: true, force: true })
  })

  it('removes a pid file whose process is gone', async () => {
    await writeFile(managed.pidFile, `${UNUSED_PID}\n`)

    const pid = await managed.findRunningPid()

    assert.equal(pid, undefined)
    assert.equal(existsSync(managed.pidFile), false)
  })

  it('treats a reused pid of another program as stale', async () => {
    await writeFile(managed.pidFile, `${process.pid}\n`)

    const pid = await managed.findRunningPid()

    assert.equal(pid, undefined)
    assert.equal(existsSync(managed.pidFile), false)
  })

  it('removes a pid file that holds no number', async () => {
    await writeFile(managed.pidFile, 'not a pid\n')

    assert.equal(await managed.findRunningPid(), undefined)
    assert.equal(existsSync(managed.pidFile), false)
  })

  it('finds its process through the pid file', async () => {
    const pid = await managed.start(process.execPath, sleeperArgs(marker), dataDir)

    assert.equal((await readFile(managed.pidFile, 'utf8')).trim(), String(pid))
    assert.equal(await managed.findRunningPid(), pid)
    assert.equal(managed.isAlive(pid), true)
  })

  it('writes the process output to the log file', async () => {
    await managed.start(process.execPath, sleeperArgs(marker), dataDir)

    await waitForLogLine(managed, 'sleeper started')
  })

  it('keeps the previous log as .log.1 on restart', async () => {
    await writeFile(managed.logFile, 'line of the previous run\n')

    await managed.start(process.execPath, sleeperArgs(marker), dataDir)

    assert.equal(await readFile(`${managed.logFile}.1`, 'utf8'), 'line of the previous run\n')
    await waitForLogLine(managed, 'sleeper started')
    assert.equal((await managed.readLogTail(10)).includes('previous run'), false)
  })

  it('stops with SIGTERM, removing the pid file', async () => {
    const pid = await managed.start(process.execPath, sleeperArgs(marker), dataDir)

    const outcome = await managed.stop(STOP_TIMEOUT_MS)

    assert.equal(outcome, 'terminated')
    assert.equal(managed.isAlive(pid), false)
    assert.equal(existsSync(managed.pidFile), false)
  })

  it('sends SIGKILL when the process ignores SIGTERM', async () => {
    const pid = await managed.start(process.execPath, sleeperArgs(marker, true), dataDir)
    await waitForLogLine(managed, 'sleeper started')

    const outcome = await managed.stop(300)

    assert.equal(outcome, 'killed')
    assert.equal(managed.isAlive(pid), false)
    assert.equal(existsSync(managed.pidFile), false)
  })

  it('reports not-running when asked to stop nothing', async () => {
    assert.equal(await managed.stop(STOP_TIMEOUT_MS), 'not-running')
  })

  it('rejects a start whose program does not exist', async () => {
    await assert.rejects(
      managed.start(join(dataDir, 'no-such-program'), [], dataDir),
      /starting the sleeper with .*no-such-program failed/,
    )
    assert.equal(existsSync(managed.pidFile), false)
  })

  it('returns an empty log tail before the first start', async () => {
    assert.equal(await managed.readLogTail(5), '')
  })
})
