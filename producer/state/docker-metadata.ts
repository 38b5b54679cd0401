import { request } from 'node:http'
import { silentLogger } from '../../core/logger.js'
import type { Logger } from '../../core/logger.js'
import type { ContainerInfo } from '../../schemas/types.js'

/** The Docker Engine API's default Unix socket. */
export const DOCKER_SOCKET = '/var/run/docker.sock'

/** Container fields that a runtime's API adds to the id and type read from the cgroup path. */
export type ContainerMetadata = Omit<ContainerInfo, 'id' | 'full_id' | 'type'>

/** Looks containers up in a runtime's API. The event builder calls it for each new container. */
export interface ContainerMetadataSource {
  /**
   * Returns the metadata fetched so far for a container, or undefined while none is known. The
   * first call for an id starts a fetch in the background, so later events carry the fields.
   */
  lookup: (type: string, fullId: string) => ContainerMetadata | undefined
}

export interface DockerMetadataOptions {
  socketPath?: string
  /** Time allowed for one inspect request, in milliseconds (default 2000). */
  timeoutMs?: number
  /** Containers remembered before the cache restarts (default 4096). */
  maxContainers?: number
  logger?: Logger
}

/** The part of `GET /containers/{id}/json` (Docker Engine API) that Peregrine reads. */
interface DockerInspect {
  Name?: string
  Image?: string
  Config?: { Image?: string; Labels?: Record<string, string> | null }
  HostConfig?: { Privileged?: boolean }
  NetworkSettings?: { IPAddress?: string; Networks?: Record<string, { IPAddress?: string }> }
  Mounts?: Array<{
    Source?: string
    Destination?: string
    Mode?: string
    RW?: boolean
    Propagation?: string
  }>
}

type Entry = ContainerMetadata | 'pending' | 'missing'

/**
 * Container metadata from the Docker Engine API over its Unix socket: name, image and its parts,
 * privileged, IP address, labels and mounts, from `GET /containers/{id}/json`. Only containers of
 * type `docker` are looked up. A container the daemon does not know, or a failed request, is
 * remembered as missing and not asked again.
 */
export class DockerMetadata implements ContainerMetadataSource {
  private readonly socketPath: string
  private readonly timeoutMs: number
  private readonly maxContainers: number
  private readonly logger: Logger
  private readonly entries = new Map<string, Entry>()
  private readonly inFlight = new Set<Promise<void>>()

  constructor(options: DockerMetadataOptions = {}) {
    this.socketPath = options.socketPath ?? DOCKER_SOCKET
    this.timeoutMs = options.timeoutMs ?? 2000
    this.maxContainers = options.maxContainers ?? 4096
    this.logger = (options.logger ?? silentLogger()).child({ component: 'docker-metadata' })
  }

  lookup(type: string, fullId: string): ContainerMetadata | undefined {
    if (type !== 'docker') return undefined
    const entry = this.entries.get(fullId)
    if (entry === undefined) this.startFetch(fullId)
    return typeof entry === 'object' ? entry : undefined
  }

  /** Resolves once every fetch started so far has settled, for tests and shutdown. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight])
  }

  /** Fetches one container's metadata, or returns null when the daemon does not know it. */
  async inspect(fullId: string): Promise<ContainerMetadata | null> {
    const { status, body } = await this.get(`/containers/${encodeURIComponent(fullId)}/json`)
    if (status === 404) return null
    if (status !== 200) {
      throw new Error(`GET /containers/${fullId}/json on ${this.socketPath} returned ${status}`)
    }
    return toMetadata(JSON.parse(body) as DockerInspect)
  }

  private startFetch(fullId: string): void {
    if (this.entries.size >= this.maxContainers) this.entries.clear()
    this.entries.set(fullId, 'pending')
    const fetching: Promise<void> = this.inspect(fullId).then(
      (metadata) => {
        this.entries.set(fullId, metadata ?? 'missing')
        if (metadata === null) this.logger.debug({ containerId: fullId }, 'container not found')
      },
      (error: unknown) => {
        this.entries.set(fullId, 'missing')
        this.logger.warn(
          { err: error, containerId: fullId, socketPath: this.socketPath },
          'inspecting a container through the Docker API failed; its events carry no image',
        )
      },
    )
    this.inFlight.add(fetching)
    // Both branches above handle the outcome, so this promise never rejects.
    fetching.then(
      () => this.inFlight.delete(fetching),
      () => {},
    )
  }

  private get(path: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const outgoing = request(
        { socketPath: this.socketPath, path, method: 'GET', timeout: this.timeoutMs },
        (response) => {
          let body = ''
          response.setEncoding('utf8')
          response.on('data', (chunk: string) => (body += chunk))
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
          response.on('error', reject)
        },
      )
      outgoing.on('timeout', () =>
        outgoing.destroy(new Error(`timed out after ${this.timeoutMs} ms`)),
      )
      outgoing.on('error', reject)
      outgoing.end()
    })
  }
}

/** Maps an inspect response to the event's container fields, as Falco names them. */
export function toMetadata(inspect: DockerInspect): ContainerMetadata {
  const image = inspect.Config?.Image ?? null
  const parts = image === null ? null : splitImage(image)
  return {
    name: inspect.Name === undefined ? null : inspect.Name.replace(/^\//, ''),
    image,
    image_id: inspect.Image === undefined ? null : inspect.Image.replace(/^sha256:/, ''),
    image_repository: parts?.repository ?? null,
    image_tag: parts?.tag ?? null,
    image_digest: parts?.digest ?? null,
    privileged: inspect.HostConfig?.Privileged ?? null,
    ip: containerIp(inspect),
    labels: inspect.Config?.Labels ?? {},
    mounts: (inspect.Mounts ?? [])
      .filter((mount) => mount.Source !== undefined && mount.Destination !== undefined)
      .map((mount) => ({
        source: mount.Source as string,
        dest: mount.Destination as string,
        mode: mount.Mode ?? null,
        rdwr: mount.RW ?? null,
        propagation: mount.Propagation ?? null,
      })),
  }
}

/**
 * Splits an image reference into repository, tag and digest: `registry:5000/team/app:1.2@sha256:…`
 * has repository `registry:5000/team/app`, tag `1.2` and digest `sha256:…`. A colon counts as the
 * tag separator only after the last slash, because a registry host may carry a port.
 */
export function splitImage(image: string): {
  repository: string
  tag: string | null
  digest: string | null
} {
  const at = image.indexOf('@')
  const digest = at < 0 ? null : image.slice(at + 1)
  const named = at < 0 ? image : image.slice(0, at)
  const colon = named.lastIndexOf(':')
  if (colon > named.lastIndexOf('/')) {
    return { repository: named.slice(0, colon), tag: named.slice(colon + 1), digest }
  }
  return { repository: named, tag: null, digest }
}

function containerIp(inspect: DockerInspect): string | null {
  const direct = inspect.NetworkSettings?.IPAddress
  if (direct !== undefined && direct !== '') return direct
  const networks = Object.values(inspect.NetworkSettings?.Networks ?? {})
  const found = networks.find((network) => (network.IPAddress ?? '') !== '')
  return found?.IPAddress ?? null
}
