import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the server does with one request. */
export type WebhookFault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'hang' }
  | { kind: 'reset' }

export interface ReceivedRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: string
  json: unknown
}

/**
 * A loopback HTTP endpoint in place of a webhook receiver. It returns 200 to well-formed
 * JSON POSTs, 400 to bodies that are not JSON, and plays queued faults first: a status with an
 * optional Retry-After (429, 5xx), a request that never gets a response, or a reset connection.
 */
export class MockWebhook {
  readonly received: ReceivedRequest[] = []
  private readonly faults: WebhookFault[] = []
  private readonly server: Server
  private port = 0

  constructor() {
    this.server = createServer((request, response) => this.handle(request, response))
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook/secret-token`
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
    return this
  }

  /** Queues faults played, in order, on the next requests. */
  failNext(...faults: WebhookFault[]): void {
    this.faults.push(...faults)
  }

  /** Parsed bodies of the accepted requests. */
  accepted(): unknown[] {
    return this.received
      .filter((request) => request.json !== undefined)
      .map((request) => request.json)
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise((resolve) => this.server.close(resolve))
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const fault = this.faults.shift()
    if (fault?.kind === 'reset') {
      request.socket.destroy()
      return
    }
    if (fault?.kind === 'hang') return

    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => (body += chunk))
    request.on('end', () => {
      if (fault?.kind === 'status') {
        const headers = fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter }
        response.writeHead(fault.status, headers).end(fault.body ?? '')
        return
      }
      this.accept(request, response, body)
    })
  }

  private accept(request: IncomingMessage, response: ServerResponse, body: string): void {
    let json: unknown
    try {
      json = JSON.parse(body)
    } catch {
      response
        .writeHead(400, { 'content-type': 'application/json' })
        .end('{"error":"body is not JSON"}')
      return
    }
    this.received.push({
      method: request.method ?? '',
      path: request.url ?? '',
      headers: request.headers,
      body,
      json,
    })
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
  }
}
