/**
 * TypeScript shapes of the Avro records in this folder. The .avsc files are the source of truth;
 * a test encodes a full sample of each type through its schema to keep the two in step.
 *
 * Avro `long` values decode to a number when they fit in a double without loss, and to a bigint
 * otherwise (nanosecond times always do), so every 64-bit value round-trips exactly.
 */
export type Int64 = number | bigint

export interface ProcessInfo {
  pid: Int64
  tid: Int64
  vpid: Int64 | null
  vtid: Int64 | null
  ppid: Int64 | null
  name: string
  exe: string | null
  exepath: string | null
  args: string[]
  cwd: string | null
  tty: Int64 | null
  sid: Int64 | null
  sname: string | null
  vpgid: Int64 | null
  loginshell_id: Int64 | null
  env: string[]
  is_exe_writable: boolean | null
  is_exe_upper_layer: boolean | null
  is_exe_from_memfd: boolean | null
  exe_ino: Int64 | null
  start_ts_ns: Int64 | null
  cap_permitted: string | null
  cap_effective: string | null
  cap_inheritable: string | null
}

export interface AncestorInfo {
  pid: Int64
  name: string
  exe: string | null
  exepath: string | null
  args: string[]
}

export interface UserInfo {
  uid: Int64
  name: string | null
  homedir: string | null
  shell: string | null
  loginuid: Int64 | null
  loginname: string | null
  gid: Int64
  group_name: string | null
}

export interface FileDescriptorInfo {
  num: Int64
  type: string
  typechar: string
  name: string
  ino: Int64 | null
  dev: Int64 | null
  l4proto: string | null
  sockfamily: string | null
  cip: string | null
  cport: number | null
  sip: string | null
  sport: number | null
  is_server: boolean | null
}

export interface MountInfo {
  source: string
  dest: string
  mode: string | null
  rdwr: boolean | null
  propagation: string | null
}

export interface ContainerInfo {
  id: string
  full_id: string | null
  name: string | null
  type: string | null
  image: string | null
  image_id: string | null
  image_repository: string | null
  image_tag: string | null
  image_digest: string | null
  privileged: boolean | null
  ip: string | null
  labels: Record<string, string>
  mounts: MountInfo[]
}

export interface SyscallEvent {
  ts_ns: Int64
  hostname: string
  num: Int64
  type: string
  source: string
  cpu: number | null
  res: Int64 | null
  args: Record<string, string>
  raw_args: Record<string, string>
  proc: ProcessInfo
  ancestors: AncestorInfo[]
  user: UserInfo
  fd: FileDescriptorInfo | null
  container: ContainerInfo | null
}

export type OutputFieldValue = null | boolean | Int64 | string

export interface EventReference {
  topic: string
  partition: number
  offset: Int64
  num: Int64
  type: string
}

export interface Alert {
  time: string
  ts_ns: Int64
  rule: string
  priority: string
  output: string
  output_fields: Record<string, OutputFieldValue>
  hostname: string
  source: string
  tags: string[]
  event: EventReference
}
