import type { AncestorInfo, SyscallEvent } from '../../schemas/types.js'
import { perEvent } from './event-cache.js'
import {
  ancestorAt,
  argumentField,
  commandLine,
  elapsedNs,
  int64,
  optional,
  parseIndex,
  simpleField,
  unavailableField,
} from './field-helpers.js'
import type {
  FieldAccessor,
  FieldDefinition,
  FieldScalar,
  FieldType,
  FieldValue,
} from './field-table.js'

type AncestorPart = (ancestor: AncestorInfo) => FieldScalar | undefined

/** proc.*, thread.*, user.* and group.* fields: the process that made the syscall. */
export const PROCESS_FIELDS: FieldDefinition[] = [
  simpleField('proc.pid', 'number', (event) => event.proc.pid),
  simpleField('proc.vpid', 'number', (event) => int64(event.proc.vpid)),
  simpleField('proc.ppid', 'number', (event) => int64(event.proc.ppid ?? event.ancestors[0]?.pid)),
  simpleField('proc.name', 'string', (event) => event.proc.name),
  simpleField('proc.exe', 'string', (event) => optional(event.proc.exe)),
  simpleField('proc.exepath', 'string', (event) => optional(event.proc.exepath)),
  simpleField(
    'proc.args',
    'string',
    perEvent((event) => event.proc.args.join(' ')),
  ),
  simpleField(
    'proc.cmdline',
    'string',
    perEvent((event) => commandLine(event.proc.name, event.proc.args)),
  ),
  simpleField('proc.cmdnargs', 'number', (event) => event.proc.args.length),
  simpleField('proc.cmdlenargs', 'number', (event) =>
    event.proc.args.reduce((total, arg) => total + arg.length, 0),
  ),
  simpleField('proc.cwd', 'string', (event) => optional(event.proc.cwd)),
  simpleField('proc.tty', 'number', (event) => int64(event.proc.tty)),
  simpleField('proc.sid', 'number', (event) => int64(event.proc.sid)),
  simpleField('proc.sname', 'string', (event) => optional(event.proc.sname)),
  simpleField('proc.vpgid', 'number', (event) => int64(event.proc.vpgid)),
  simpleField('proc.loginshellid', 'number', (event) => int64(event.proc.loginshell_id)),
  simpleField('proc.is_vpgid_leader', 'bool', (event) => {
    const { vpid, vpgid } = event.proc
    return vpid === null || vpgid === null ? undefined : BigInt(vpid) === BigInt(vpgid)
  }),
  simpleField('proc.is_sid_leader', 'bool', (event) => {
    const { vpid, sid } = event.proc
    return vpid === null || sid === null ? undefined : BigInt(vpid) === BigInt(sid)
  }),
  simpleField(
    'proc.duration',
    'number',
    perEvent((event) => elapsedNs(event.proc.start_ts_ns, event.ts_ns)),
  ),
  simpleField('proc.pid.ts', 'number', (event) => int64(event.proc.start_ts_ns)),
  simpleField('proc.is_exe_writable', 'bool', (event) => optional(event.proc.is_exe_writable)),
  simpleField('proc.is_exe_upper_layer', 'bool', (event) =>
    optional(event.proc.is_exe_upper_layer),
  ),
  simpleField('proc.is_exe_from_memfd', 'bool', (event) => optional(event.proc.is_exe_from_memfd)),
  simpleField('proc.exe_ino', 'number', (event) => int64(event.proc.exe_ino)),
  unavailableField('proc.exe_ino.ctime', 'number'),
  unavailableField('proc.exe_ino.mtime', 'number'),
  unavailableField('proc.exe_ino.ctime_duration_proc_start', 'number'),
  unavailableField('proc.ppid.duration', 'number'),
  unavailableField('proc.vpgid.name', 'string'),
  unavailableField('proc.vpgid.exe', 'string'),
  unavailableField('proc.vpgid.exepath', 'string'),
  argumentField('proc.env', 'string', 'optional', environmentAccessor),
  simpleField('proc.pname', 'string', (event) => event.ancestors[0]?.name),
  simpleField('proc.pexe', 'string', (event) => optional(event.ancestors[0]?.exe)),
  simpleField('proc.pexepath', 'string', (event) => optional(event.ancestors[0]?.exepath)),
  simpleField('proc.pcmdline', 'string', perEvent(parentCommandLine)),
  ancestorField('proc.aname', 'string', (ancestor) => ancestor.name),
  ancestorField('proc.apid', 'number', (ancestor) => ancestor.pid),
  ancestorField('proc.aexe', 'string', (ancestor) => optional(ancestor.exe)),
  ancestorField('proc.aexepath', 'string', (ancestor) => optional(ancestor.exepath)),
  ancestorField('proc.acmdline', 'string', (ancestor) => commandLine(ancestor.name, ancestor.args)),
  simpleField('thread.tid', 'number', (event) => event.proc.tid),
  simpleField('thread.vtid', 'number', (event) => int64(event.proc.vtid)),
  simpleField('thread.cap_permitted', 'string', (event) => optional(event.proc.cap_permitted)),
  simpleField('thread.cap_effective', 'string', (event) => optional(event.proc.cap_effective)),
  simpleField('thread.cap_inheritable', 'string', (event) => optional(event.proc.cap_inheritable)),
  simpleField('user.uid', 'number', (event) => event.user.uid),
  simpleField('user.name', 'string', (event) => optional(event.user.name)),
  simpleField('user.homedir', 'string', (event) => optional(event.user.homedir)),
  simpleField('user.shell', 'string', (event) => optional(event.user.shell)),
  simpleField('user.loginuid', 'number', (event) => int64(event.user.loginuid)),
  simpleField('user.loginname', 'string', (event) => optional(event.user.loginname)),
  simpleField('group.gid', 'number', (event) => event.user.gid),
  simpleField('group.name', 'string', (event) => optional(event.user.group_name)),
]

/**
 * Defines proc.aname-style fields: `[N]` reads the N-th ancestor (0 is the process itself);
 * without an index the field has one value per ancestor from the parent up, so a comparison
 * matches when any ancestor matches.
 */
function ancestorField(name: string, type: FieldType, part: AncestorPart): FieldDefinition {
  // One accessor for every check of the whole list, so the list is built once per event.
  const allAncestors = perEvent((event) =>
    event.ancestors.map(part).filter((value): value is FieldScalar => value !== undefined),
  )
  const build = (arg: string | undefined): FieldAccessor | string => {
    if (arg === undefined) return allAncestors
    const depth = parseIndex(arg)
    if (depth === undefined) return `invalid index '${arg}' for ${name}: expected a number`
    return (event) => {
      const ancestor = ancestorAt(event, depth)
      return ancestor === undefined ? undefined : part(ancestor)
    }
  }
  return argumentField(name, type, 'optional', build, { isList: true })
}

function environmentAccessor(arg: string | undefined): FieldAccessor {
  if (arg === undefined) return (event) => event.proc.env.join(' ')
  const prefix = `${arg}=`
  return (event) => event.proc.env.find((entry) => entry.startsWith(prefix))?.slice(prefix.length)
}

function parentCommandLine(event: SyscallEvent): FieldValue {
  const parent = event.ancestors[0]
  return parent === undefined ? undefined : commandLine(parent.name, parent.args)
}
