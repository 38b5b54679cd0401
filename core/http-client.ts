import http from 'node:http'
import https from 'node:https'
import { SinkDeliveryError, errorMessage } from './errors.js'

export interface HttpRequest {
  method?: 'POST' | 'PUT'
  url: string
  headers?: Record<string, string>
  body: string | Buffer
  timeoutMs: number
  signal?: AbortSignal
  /** Verify the server's TLS certificate; true unless a test endpoint requires otherwise. */
  verifyTls?: boolean
}

export interface HttpResponse {
  statusCode: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** Largest response body kept, in bytes; sink APIs respond with short JSON. */
const MAX_RESPONSE_BYTES = 1024 * 1024
/** Network error codes after which the same request may succeed. */
const RETRIABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
])

/**
 * Sends one HTTP request and returns the response whatever its status; use `expectSuccess` to turn
 * a status into an error. Throws a retriable SinkDeliveryError on timeouts and connection failures.
 * The URL never appears in errors, because webhook URLs are secrets.
 */
export async function sendHttpRequest(request: HttpRequest): Promise<HttpResponse> {
  const url = new URL(request.url)
  const transport = url.protocol === 'https:' ? https : http
  const body = typeof request.body === 'string' ? Buffer.from(request.body) : request.body

  // One deadline for the whole exchange: the socket timeout alone resets on every byte, so a
  // receiver sending its response one byte a second would never time out.
  const deadline = AbortSignal.timeout(request.timeoutMs)
  const signal =
    request.signal === undefined ? deadline : AbortSignal.any([request.signal, deadline])

  return await new Promise<HttpResponse>((resolve, reject) => {
    const outgoing = transport.request(
      url,
      {
        method: request.method ?? 'POST',
        headers: { 'content-length': String(body.length), ...request.headers },
        timeout: request.timeoutMs,
        signal,
        rejectUnauthorized: request.verifyTls ?? true,
      },
      (incoming) =>
        readResponse(incoming).then(resolve, (error: Error) =>
          reject(toDeliveryError(error, request, deadline)),
        ),
    )
    outgoing.on('timeout', () => {
      outgoing.destroy(timedOut(request.timeoutMs))
    })
    outgoing.on('error', (error) => reject(toDeliveryError(error, request, deadline)))
    outgoing.end(body)
  })
}

function timedOut(timeoutMs: number): SinkDeliveryError {
  return new SinkDeliveryError(`request timed out after ${timeoutMs} ms`, { retriable: true })
}

/**
 * Returns the response when its status is 2xx and throws SinkDeliveryError otherwise: retriable
 * for 408, 429 and 5xx, with the delay a Retry-After header requests; not retriable for other
 * statuses, which need a change of request or configuration.
 */
export function expectSuccess(response: HttpResponse, action: string): HttpResponse {
  const status = response.statusCode
  if (status >= 200 && status < 300) return response
  const isRetriable = status === 408 || status === 429 || status >= 500
  const retryAfterMs = parseRetryAfter(response.headers['retry-after'])
  const detail = response.body.replace(/\s+/g, ' ').slice(0, 300)
  throw new SinkDeliveryError(
    `${action} failed with HTTP ${status}${detail === '' ? '' : `: ${detail}`}`,
    {
      statusCode: status,
      retriable: isRetriable,
      retryAfterMs,
    },
  )
}

/**
 * Parses Retry-After, either delay-seconds or an HTTP date (RFC 9110 section 10.2.3), into
 * milliseconds from now. Returns undefined when absent or unreadable.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  nowMs = Date.now(),
): number | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (text === undefined || text.trim() === '') return undefined
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000
  const dateMs = Date.parse(text)
  if (Number.isNaN(dateMs)) return undefined
  return Math.max(0, dateMs - nowMs)
}

async function readResponse(incoming: http.IncomingMessage): Promise<HttpResponse> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of incoming) {
    size += (chunk as Buffer).length
    if (size > MAX_RESPONSE_BYTES) {
      // The status is known already; the rest of an oversized body is not worth reading.
      incoming.destroy()
      break
    }
    chunks.push(chunk as Buffer)
  }
  return {
    statusCode: incoming.statusCode ?? 0,
    headers: incoming.headers,
    body: Buffer.concat(chunks).toString('utf8'),
  }
}

function toDeliveryError(error: Error, request: HttpRequest, deadline: AbortSignal): Error {
  if (error instanceof SinkDeliveryError) return error
  if (request.signal?.aborted === true) return error
  if (deadline.aborted) return timedOut(request.timeoutMs)
  const code = (error as NodeJS.ErrnoException).code
  const isRetriable = code === undefined || RETRIABLE_NETWORK_CODES.has(code)
  const message = errorMessage(error)
  const detail = code === undefined || message.includes(code) ? message : `${code}: ${message}`
  return new SinkDeliveryError(`request failed: ${detail}`, {
    cause: error,
    retriable: isRetriable,
  })
}
