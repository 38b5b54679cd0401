#!/usr/bin/env node
// Builds the probe addon during `npm ci` (the root package's install script): vmlinux.h from the
// running kernel's BTF, the eBPF object with clang, its libbpf skeleton with bpftool, then the
// Node-API addon with node-gyp against the local Node headers. When a build dependency is
// missing, it writes the reason to native/build/unavailable.txt, prints it and exits 0, so the
// rest of Peregrine installs and the live source reports why it cannot run.
//
// Environment (for packagers and for testing the fallback):
//   PEREGRINE_NATIVE_SKIP=1      do not build; the reason file records the skip
//   PEREGRINE_NATIVE_CLANG=PATH  clang to compile the eBPF program with (default: clang-14, clang)
//   PEREGRINE_NATIVE_BPFTOOL=PATH  bpftool to use (default: bpftool)
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { arch } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const NATIVE_DIR = dirname(dirname(fileURLToPath(import.meta.url)))
const BUILD_DIR = join(NATIVE_DIR, 'build')
const BPF_DIR = join(BUILD_DIR, 'bpf')
const REASON_FILE = join(BUILD_DIR, 'unavailable.txt')
const BTF_PATH = '/sys/kernel/btf/vmlinux'
const BUILD_HEADERS = ['bpf/libbpf.h', 'libelf.h', 'zlib.h']

class MissingDependency extends Error {}

main()

function main() {
  rmSync(REASON_FILE, { force: true })
  try {
    build()
    console.log('peregrine: built the eBPF probe addon (native/build/Release/peregrine_probe.node)')
  } catch (error) {
    const reason =
      error instanceof MissingDependency ? error.message : `build failed: ${error.message}`
    mkdirSync(BUILD_DIR, { recursive: true })
    writeFileSync(REASON_FILE, `${reason}\n`)
    console.warn(`peregrine: the live eBPF source is unavailable: ${reason}`)
    console.warn('peregrine: every other part of Peregrine is installed and works without it')
  }
}

function build() {
  if (process.env.PEREGRINE_NATIVE_SKIP === '1') {
    throw new MissingDependency('the addon build was skipped (PEREGRINE_NATIVE_SKIP=1)')
  }
  if (process.platform !== 'linux' || arch() !== 'x64') {
    throw new MissingDependency(
      `the probe supports Linux on x86_64 only, not ${process.platform} on ${arch()}`,
    )
  }
  const clang = findTool(
    process.env.PEREGRINE_NATIVE_CLANG,
    ['clang-14', 'clang'],
    'clang (apt-get install clang-14)',
  )
  const bpftool = findTool(
    process.env.PEREGRINE_NATIVE_BPFTOOL,
    ['bpftool'],
    'bpftool (apt-get install bpftool)',
  )
  checkHeaders()
  if (!existsSync(BTF_PATH)) {
    throw new MissingDependency(
      `${BTF_PATH} is missing, so vmlinux.h cannot be generated (kernel without CONFIG_DEBUG_INFO_BTF)`,
    )
  }
  const nodeDir = findNodeHeaders()
  const nodeGyp = findNodeGyp()

  mkdirSync(BPF_DIR, { recursive: true })
  const vmlinux = run(
    bpftool,
    ['btf', 'dump', 'file', BTF_PATH, 'format', 'c'],
    'generating vmlinux.h',
  )
  writeFileSync(join(BPF_DIR, 'vmlinux.h'), vmlinux)
  const object = join(BPF_DIR, 'probe.bpf.o')
  run(
    clang,
    [
      '-g',
      '-O2',
      '-target',
      'bpf',
      '-D__TARGET_ARCH_x86',
      '-Wall',
      '-Werror',
      `-I${BPF_DIR}`,
      `-I${join(NATIVE_DIR, 'src')}`,
      '-c',
      join(NATIVE_DIR, 'src', 'probe.bpf.c'),
      '-o',
      object,
    ],
    'compiling probe.bpf.c',
  )
  const skeleton = run(
    bpftool,
    ['gen', 'skeleton', object, 'name', 'probe_bpf'],
    'generating the skeleton',
  )
  writeFileSync(join(BPF_DIR, 'probe.skel.h'), skeleton)

  // configure + build rather than rebuild: rebuild would delete build/bpf first.
  const gypArgs = ['--directory', NATIVE_DIR, `--nodedir=${nodeDir}`]
  run(process.execPath, [nodeGyp, 'configure', ...gypArgs], 'configuring node-gyp')
  run(process.execPath, [nodeGyp, 'build', ...gypArgs], 'building the addon')
}

function findTool(override, candidates, description) {
  for (const candidate of override === undefined ? candidates : [override]) {
    const result = spawnSync(candidate, ['--version'], { encoding: 'utf8' })
    if (result.status === 0) return candidate
  }
  throw new MissingDependency(`${description} was not found`)
}

function checkHeaders() {
  const missing = BUILD_HEADERS.filter((header) => !existsSync(join('/usr/include', header)))
  if (missing.length > 0) {
    throw new MissingDependency(
      `missing headers ${missing.join(', ')} (apt-get install libbpf-dev libelf-dev zlib1g-dev)`,
    )
  }
}

// node-gyp cannot download headers on a machine without internet access, so it is pointed at
// the headers installed with Node itself.
function findNodeHeaders() {
  const prefixes = [
    process.config.variables.node_prefix,
    dirname(dirname(process.execPath)),
    '/usr',
  ]
  for (const prefix of prefixes) {
    if (prefix && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return prefix
  }
  throw new MissingDependency(
    'Node headers (include/node/node_api.h) were not found next to the node binary',
  )
}

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
  ]
  const found = candidates.find((candidate) => candidate && existsSync(candidate))
  if (found === undefined) throw new MissingDependency('node-gyp was not found (it ships with npm)')
  return found
}

function run(command, args, step) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  if (result.error !== undefined) throw new Error(`${step}: ${result.error.message}`)
  if (result.status !== 0) {
    const lines = `${result.stdout}${result.stderr}`.trim().split('\n')
    const errors = lines.filter((line) => /error/i.test(line)).slice(0, 10)
    const output = [...errors, ...lines.slice(-5)].join('\n')
    throw new Error(`${step} exited with status ${result.status}:\n${output}`)
  }
  return result.stdout
}
