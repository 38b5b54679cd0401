import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { SinkDeliveryError } from './errors.js'
import { expectSuccess, parseRetryAfter, sendHttpRequest } from './http-client.js'

type Handler = (request: IncomingMessage, response: ServerResponse) => void

describe('sendHttpRequest', () => {
  let server: Server
  let baseUrl: string
  const routes = new Map<string, Handler>()

  before(async () => {
    server = createServer((request, response) => {
      const handler = routes.get(request.url ?? '')
      if (handler === undefined) response.writeHead(404).end()
      else handler(request, response)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  it('returns status and body of a 2xx answer', async () => {
    routes.set('/ok', (request, response) => {
      let body = ''
      request.on('data', (chunk) => (body += chunk))
      request.on('end', () => response.writeHead(200).end(`got ${body}`))
    })

    const response = expectSuccess(
      await sendHttpRequest({ url: `${baseUrl}/ok`, body: 'ping', timeoutMs: 2000 }),
      'test',
    )

    assert.equal(response.statusCode, 200)
    assert.equal(response.body, 'got ping')
  })

  it('marks 429 retriable with the Retry-After delay', async () => {
    routes.set('/limited', (_request, response) =>
      response.writeHead(429, { 'retry-after': '7' }).end('slow down'),
    )

    const response = await sendHttpRequest({
      url: `${baseUrl}/limited`,
      body: '{}',
      timeoutMs: 2000,
    })
    const error = captureError(() => expectSuccess(response, 'posting'))

    assert.ok(error instanceof SinkDeliveryError)
    assert.equal(error.retriable, true)
    assert.equal(error.retryAfterMs, 7000)
    assert.equal(error.statusCode, 429)
    assert.match(error.message, /posting failed with HTTP 429: slow down/)
  })

  it('marks 5xx retriable and other 4xx final', async () => {
    routes.set('/broken', (_request, response) => response.writeHead(503).end())
    routes.set('/bad', (_request, response) => response.writeHead(400).end('invalid token'))

    const server503 = await sendHttpRequest({ url: `${baseUrl}/broken`, body: '', timeoutMs: 2000 })
    const server400 = await sendHttpRequest({ url: `${baseUrl}/bad`, body: '', timeoutMs: 2000 })

    assert.equal(
      (captureError(() => expectSuccess(server503, 'x')) as SinkDeliveryError).retriable,
      true,
    )
    assert.equal(
      (captureError(() => expectSuccess(server400, 'x')) as SinkDeliveryError).retriable,
      false,
    )
  })

  it('times out a server that never answers, as retriable', async () => {
    routes.set('/hang', () => {})

    await assert.rejects(
      sendHttpRequest({ url: `${baseUrl}/hang`, body: '', timeoutMs: 100 }),
      (error: unknown) => {
        assert.ok(error instanceof SinkDeliveryError)
        assert.equal(error.retriable, true)
        assert.match(error.message, /timed out after 100 ms/)
        return true
      },
    )
  })

  it('times out a response sent one byte at a time', async () => {
    routes.set('/trickle', (_request, response) => {
      response.writeHead(200)
      const timer = setInterval(() => response.write('x'), 20)
      response.on('close', () => clearInterval(timer))
    })

    await assert.rejects(
      sendHttpRequest({ url: `${baseUrl}/trickle`, body: '', timeoutMs: 200 }),
      (error: unknown) => {
        assert.ok(error instanceof SinkDeliveryError)
        assert.equal(error.retriable, true)
        assert.match(error.message, /timed out after 200 ms/)
        return true
      },
    )
  })

  it('stops reading a response body past its size limit', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'y')
    let written = 0
    routes.set('/huge', (_request, response) => {
      response.writeHead(500)
      const writeMore = (): void => {
        while (written < 64 * 1024 * 1024) {
          written += chunk.length
          if (!response.write(chunk)) {
            response.once('drain', writeMore)
            return
          }
        }
        response.end()
      }
      response.on('error', () => {})
      writeMore()
    })

    const response = await sendHttpRequest({ url: `${baseUrl}/huge`, body: '', timeoutMs: 5000 })

    assert.equal(response.statusCode, 500)
    assert.ok(response.body.length <= 1024 * 1024)
    assert.ok(written < 64 * 1024 * 1024, `server wrote ${written} bytes`)
  })

  it('treats a reset connection as retriable', async () => {
    routes.set('/reset', (request) => request.socket.destroy())

    await assert.rejects(
      sendHttpRequest({ url: `${baseUrl}/reset`, body: 'x', timeoutMs: 2000 }),
      (error: unknown) => {
        assert.ok(error instanceof SinkDeliveryError)
        assert.equal(error.retriable, true)
        return true
      },
    )
  })

  it('treats a refused connection as retriable', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))

    await assert.rejects(
      sendHttpRequest({ url: `http://127.0.0.1:${port}/`, body: 'x', timeoutMs: 2000 }),
      (error: unknown) => {
        assert.ok(error instanceof SinkDeliveryError)
        assert.equal(error.retriable, true)
        assert.match(error.message, /ECONNREFUSED/)
        return true
      },
    )
  })
})

describe('parseRetryAfter', () => {
  it('reads delay seconds', () => {
    assert.equal(parseRetryAfter('120'), 120_000)
  })

  it('reads an HTTP date relative to now', () => {
    const now = Date.parse('2026-12-04T10:00:00Z')

    assert.equal(parseRetryAfter('Fri, 04 Dec 2026 10:00:30 GMT', now), 30_000)
  })

  it('ignores unreadable values', () => {
    assert.equal(parseRetryAfter('soon'), undefined)
    assert.equal(parseRetryAfter(undefined), undefined)
  })
})

function captureError(action: () => unknown): Error {
  try {
    action()
  } catch (error) {
    return error as Error
  }
  assert.fail('expected an error')
}
