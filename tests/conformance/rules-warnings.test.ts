import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadRuleSet } from '../../processors/rules/index.js'
import { missingUpstream, upstreamPath } from '../support/upstream.js'

/**
 * The warnings Falco 0.42 and later give for each upstream rules file, derived from Falco's rule
 * loader (rule_loader_compiler.cpp and filter_warning_resolver.cpp in falcosecurity/falco):
 *
 * - LOAD_DEPRECATED_ITEM once per rule whose condition, with macros expanded, reads evt.dir or an
 *   evt.latency field, because Falco 0.42 and later receive exit events only.
 * - LOAD_DEPRECATED_ITEM once per rule whose output contains %container.info.
 * - LOAD_UNSAFE_NA_CHECK only for Kubernetes audit fields (ka.*, jevt.*), so never for these
 *   files, although they compare proc.name with "<NA>".
 * - No LOAD_UNUSED_MACRO or LOAD_UNUSED_LIST: every macro and list of these files is used, by an
 *   enabled or a disabled rule (Falco compiles both).
 * - No LOAD_NO_EVTTYPE: every rule names its event types.
 */
const LEGACY_EVT_DIR_RULES = [
  'Disallowed SSH Connection',
  'Unexpected outbound connection destination',
  'Unexpected inbound connection source',
  'Schedule Cron Jobs',
  'Write below binary dir',
  'Write below monitored dir',
  'Write below etc',
  'Write below root',
  'DB program spawned process',
  'Change thread namespace',
  'Run shell untrusted',
  'Launch Privileged Container',
  'Launch Excessively Capable Container',
  'Launch Sensitive Mount Container',
  'Launch Disallowed Container',
  'System user interactive',
  'Terminal shell in container',
  'System procs network activity',
  'Program run with disallowed http proxy env',
  'Interpreted procs inbound network activity',
  'Interpreted procs outbound network activity',
  'Unexpected UDP Traffic',
  'Non sudo setuid',
  'User mgmt binaries',
  'Contact EC2 Instance Metadata Service From Container',
  'Contact cloud metadata service from container',
  'Contact K8S API Server From Container',
  'Unexpected K8s NodePort Connection',
  'Launch Package Management Process in Container',
  'Netcat Remote Code Execution in Container',
  'Launch Suspicious Network Tool in Container',
  'Launch Suspicious Network Tool on Host',
  'Search Private Keys or Passwords',
  'Remove Bulk Data from Disk',
  'Delete Bash History',
  'Set Setuid or Setgid bit',
  'Launch Remote File Copy Tools in Container',
  'Create Symlink Over Sensitive Files',
  'Create Hardlink Over Sensitive Files',
  'Detect outbound connections to common miner pool ports',
  'Detect crypto miners using the Stratum protocol',
  'The docker client is executed in a container',
  'Network Connection outside Local Subnet',
  'Outbound or Inbound Traffic not to Authorized Server Process and Port',
  'Container Drift Detected (chmod)',
  'Outbound Connection to C2 Servers',
  'Linux Kernel Module Injection Detected',
  'Container Run as Root User',
  'Sudo Potential Privilege Escalation',
  'Debugfs Launched in Privileged Container',
  'Mount Launched in Privileged Container',
  'Launch Ingress Remote File Copy Tools in Container',
  'Polkit Local Privilege Escalation Vulnerability (CVE-2021-4034)',
  'PTRACE attached to process',
  'Find AWS Credentials',
  'Execution from /dev/shm',
]

const LEGACY_CONTAINER_INFO_RULES = [
  'Change thread namespace',
  'Launch Privileged Container',
  'Launch Excessively Capable Container',
  'Launch Sensitive Mount Container',
  'Launch Disallowed Container',
  'Terminal shell in container',
  'Contact EC2 Instance Metadata Service From Container',
  'Contact cloud metadata service from container',
  'Contact K8S API Server From Container',
  'Delete or rename shell history',
  'Delete Bash History',
  'Detect outbound connections to common miner pool ports',
  'Detect crypto miners using the Stratum protocol',
  'The docker client is executed in a container',
  'Redirect STDOUT/STDIN to Network Connection in Container',
  'Linux Kernel Module Injection Detected',
  'Sudo Potential Privilege Escalation',
  'Debugfs Launched in Privileged Container',
  'Mount Launched in Privileged Container',
  'Unprivileged Delegation of Page Faults Handling to a Userspace Process',
  'Detect release_agent File Container Escapes',
  'Modify Container Entrypoint',
  'PTRACE attached to process',
]

const EXPECTED_WARNINGS: [string, string[]][] = [
  ['falco-rules/falco_rules.yaml', []],
  ['falco-rules/falco-incubating_rules.yaml', []],
  ['falco-rules/falco-sandbox_rules.yaml', []],
  [
    'falco-rules/legacy/falco_rules.yaml',
    [
      ...LEGACY_EVT_DIR_RULES.map((rule) => `LOAD_DEPRECATED_ITEM ${rule}: evt.dir`),
      ...LEGACY_CONTAINER_INFO_RULES.map((rule) => `LOAD_DEPRECATED_ITEM ${rule}: container.info`),
    ],
  ],
]

const skipReason = missingUpstream(...EXPECTED_WARNINGS.map(([file]) => upstreamPath(file)))
if (skipReason !== undefined) console.log(`# skipping the rules warnings test: ${skipReason}`)

describe('upstream rules files warnings', { skip: skipReason }, () => {
  for (const [file, expected] of EXPECTED_WARNINGS) {
    it(`match Falco's for ${file}`, () => {
      const ruleSet = loadRuleSet([upstreamPath(file)])

      const warnings = ruleSet.warnings.map((warning) => {
        const subject = /evt\.dir|container\.info/.exec(warning.message)?.[0] ?? warning.message
        return `${warning.code} ${warning.item ?? ''}: ${subject}`
      })
      assert.deepEqual([...warnings].sort(), [...expected].sort())
    })
  }
})
