import type { ContainerInfo, MountInfo, SyscallEvent } from '../../schemas/types.js'
import {
  argumentField,
  optional,
  parseIndex,
  simpleField,
  unavailableField,
} from './field-helpers.js'
import type { FieldAccessor, FieldDefinition, FieldType, FieldValue } from './field-table.js'
import { compileGlob } from './glob.js'

type ContainerPart = (container: ContainerInfo) => FieldValue
type MountPart = (mount: MountInfo) => string

const HOST_ID = 'host'
/**
 * Value of container.mount.*[PATH] for a container without such a mount. Falco's rules files
 * compare these fields with "N/A", so a missing value would make `not ... in ("N/A")` true.
 */
const NO_MOUNT = 'N/A'
const POD_NAME_LABEL = 'io.kubernetes.pod.name'
const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace'
const POD_UID_LABEL = 'io.kubernetes.pod.uid'
const K8S_CONTAINER_NAME_LABEL = 'io.kubernetes.container.name'

/**
 * container.* and k8s.* fields, as Falco's container plugin defines them. On the host
 * container.id and container.name read `host`, and the other fields are missing.
 */
export const CONTAINER_FIELDS: FieldDefinition[] = [
  simpleField('container.id', 'string', (event) => event.container?.id ?? HOST_ID),
  simpleField('container.full_id', 'string', (event) => event.container?.full_id ?? HOST_ID),
  simpleField('container.name', 'string', (event) =>
    event.container === null ? HOST_ID : optional(event.container.name),
  ),
  containerField('container.type', 'string', (container) => optional(container.type)),
  containerField('container.image', 'string', (container) => optional(container.image)),
  containerField('container.image.id', 'string', (container) => optional(container.image_id)),
  containerField('container.image.repository', 'string', (c) => optional(c.image_repository)),
  containerField('container.image.tag', 'string', (container) => optional(container.image_tag)),
  containerField('container.image.digest', 'string', (c) => optional(c.image_digest)),
  containerField('container.privileged', 'bool', (container) => optional(container.privileged)),
  containerField('container.ip', 'ipaddr', (container) => optional(container.ip)),
  containerField('container.labels', 'string', (container) =>
    Object.entries(container.labels)
      .map(([key, value]) => `${key}:${value}`)
      .join(', '),
  ),
  argumentField('container.label', 'string', 'required', (arg) =>
    inContainer((container) => container.labels[arg ?? '']),
  ),
  containerField('container.mounts', 'string', (container) =>
    container.mounts.map(formatMount).join(','),
  ),
  argumentField('container.mount', 'string', 'required', (arg) =>
    mountAccessor(arg ?? '', 'dest', formatMount),
  ),
  mountField('container.mount.source', 'dest', (mount) => mount.source),
  mountField('container.mount.dest', 'source', (mount) => mount.dest),
  mountField('container.mount.mode', 'dest', (mount) => mount.mode ?? ''),
  mountField('container.mount.rdwr', 'dest', (mount) => String(mount.rdwr ?? '')),
  mountField('container.mount.propagation', 'dest', (mount) => mount.propagation ?? ''),
  unavailableField('container.start_ts', 'number'),
  unavailableField('container.duration', 'number'),
  containerField('k8s.pod.name', 'string', (container) => container.labels[POD_NAME_LABEL]),
  containerField('k8s.ns.name', 'string', (container) => container.labels[POD_NAMESPACE_LABEL]),
  containerField('k8s.pod.uid', 'string', (container) => container.labels[POD_UID_LABEL]),
  containerField('k8s.container.name', 'string', (c) => c.labels[K8S_CONTAINER_NAME_LABEL]),
  { ...unavailableField('k8s.pod.label', 'string'), argument: 'required' },
  unavailableField('k8s.pod.labels', 'string'),
]

function containerField(name: string, type: FieldType, part: ContainerPart): FieldDefinition {
  return simpleField(name, type, inContainer(part))
}

function inContainer(part: ContainerPart): FieldAccessor {
  return (event: SyscallEvent) => (event.container === null ? undefined : part(event.container))
}

/**
 * Defines container.mount.X[ARG]: ARG is a mount index, or a glob matched against the mount's
 * `key` path (the destination for container.mount.source, the source for container.mount.dest).
 */
function mountField(name: string, key: 'source' | 'dest', part: MountPart): FieldDefinition {
  return argumentField(name, 'string', 'required', (arg) => mountAccessor(arg ?? '', key, part))
}

function mountAccessor(arg: string, key: 'source' | 'dest', part: MountPart): FieldAccessor {
  const index = parseIndex(arg)
  const matches = compileGlob(arg, false)
  return inContainer((container) => {
    const mount =
      index === undefined
        ? container.mounts.find((candidate) => matches(candidate[key]))
        : container.mounts[index]
    return mount === undefined ? NO_MOUNT : part(mount)
  })
}

function formatMount(mount: MountInfo): string {
  const parts = [
    mount.source,
    mount.dest,
    mount.mode ?? '',
    String(mount.rdwr ?? ''),
    mount.propagation ?? '',
  ]
  return parts.join(':')
}
