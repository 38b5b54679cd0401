/** A container found in a cgroup path. */
export interface ContainerRef {
  /** First 12 hex characters, as Falco's container.id. */
  id: string
  fullId: string
  /** Runtime: docker, containerd, cri-o, podman, or cri for a Kubernetes pod whose runtime the
   * path does not name. */
  type: string
}

const SHORT_ID_LENGTH = 12

/**
 * One path component that names a container: a runtime prefix and 64 hex characters, with
 * systemd's `.scope` suffix when the systemd cgroup driver made it. CRI-O's and Podman's conmon
 * scopes (`crio-conmon-<id>.scope`) do not match, because `conmon` is not hex.
 */
const COMPONENT = /^(docker-|crio-|cri-containerd-|libpod-)?([0-9a-f]{64})(\.scope)?$/

const PREFIX_RUNTIMES: Record<string, string> = {
  'docker-': 'docker',
  'crio-': 'cri-o',
  'cri-containerd-': 'containerd',
  'libpod-': 'podman',
}

/**
 * Finds the container of a cgroup path, for the layouts the common runtimes create:
 * `/docker/<id>`, `/system.slice/docker-<id>.scope`, `/machine.slice/libpod-<id>.scope`,
 * `/kubepods/<qos>/pod<uid>/<id>` and `/kubepods.slice/.../cri-containerd-<id>.scope` or
 * `crio-<id>.scope`. Returns null for a host process.
 */
export function containerFromCgroupPath(path: string): ContainerRef | null {
  const components = path.split('/').filter(Boolean)
  for (let i = components.length - 1; i >= 0; i--) {
    const match = COMPONENT.exec(components[i])
    if (match === null) continue

    const [, prefix, fullId] = match
    const type =
      prefix === undefined ? typeFromParents(components.slice(0, i)) : PREFIX_RUNTIMES[prefix]
    return { id: fullId.slice(0, SHORT_ID_LENGTH), fullId, type }
  }
  return null
}

/**
 * Finds the container in the lines of /proc/<pid>/cgroup (`hierarchy:controllers:path`), trying
 * every hierarchy because cgroup v1 hosts place processes per controller.
 */
export function containerFromCgroupLines(lines: readonly string[]): ContainerRef | null {
  for (const line of lines) {
    const path = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1)
    const container = containerFromCgroupPath(path)
    if (container !== null) return container
  }
  return null
}

function typeFromParents(parents: string[]): string {
  if (parents.includes('docker')) return 'docker'
  if (parents.some((parent) => parent.startsWith('kubepods'))) return 'cri'
  if (parents.includes('machine.slice') || parents.includes('libpod_parent')) return 'podman'
  return 'containerd'
}
