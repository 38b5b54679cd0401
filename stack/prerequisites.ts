import { StackError } from '../core/errors.js'
import { lastLines, runCommand } from './run-command.js'

export interface Prerequisites {
  javaMajorVersion: number
  mavenVersion: string
}

/** Kafka 4.x brokers and Apicurio Registry 3.0 both need Java 17 or later. */
export const MIN_JAVA_MAJOR_VERSION = 17

const INSTALL_HINT =
  'install a Java 17 or later runtime and Maven, on Debian or Ubuntu with ' +
  '"apt-get install openjdk-17-jre-headless maven", and make sure java and mvn are on PATH'
const VERSION_CHECK_TIMEOUT_MS = 30_000

/**
 * Checks that `java` (17 or later) and `mvn` are on PATH. Throws one StackError that names every
 * missing or too old program and the packages to install; not retriable.
 */
export async function checkPrerequisites(
  env: NodeJS.ProcessEnv = process.env,
): Promise<Prerequisites> {
  const problems: string[] = []
  const javaMajorVersion = await findJavaMajorVersion(env, problems)
  const mavenVersion = await findMavenVersion(env, problems)
  if (problems.length > 0) {
    throw new StackError(
      `the local stack cannot start: ${problems.join('; ')}. To fix it, ${INSTALL_HINT}`,
    )
  }
  return { javaMajorVersion: javaMajorVersion ?? 0, mavenVersion: mavenVersion ?? '' }
}

/**
 * Reads the major version from `java -version` output: "17.0.15" gives 17, and the old scheme
 * "1.8.0_292" gives 8. Returns undefined when no version is found.
 */
export function parseJavaMajorVersion(output: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output)
  if (match === null) return undefined
  const first = Number(match[1])
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first
}

async function findJavaMajorVersion(
  env: NodeJS.ProcessEnv,
  problems: string[],
): Promise<number | undefined> {
  const result = await runVersionCommand('java', ['-version'], env)
  if (result === undefined) {
    problems.push('java was not found on PATH')
    return undefined
  }
  const major = parseJavaMajorVersion(result)
  if (major === undefined) {
    problems.push(`"java -version" printed no version: ${lastLines(result, 3)}`)
    return undefined
  }
  if (major < MIN_JAVA_MAJOR_VERSION) {
    problems.push(
      `java on PATH is version ${major}, but ${MIN_JAVA_MAJOR_VERSION} or later is needed`,
    )
  }
  return major
}

async function findMavenVersion(
  env: NodeJS.ProcessEnv,
  problems: string[],
): Promise<string | undefined> {
  const result = await runVersionCommand('mvn', ['-v'], env)
  if (result === undefined) {
    problems.push('mvn (Maven) was not found on PATH')
    return undefined
  }
  const match = /Apache Maven (\S+)/.exec(result)
  if (match === null) {
    problems.push(`"mvn -v" printed no Maven version: ${lastLines(result, 3)}`)
    return undefined
  }
  return match[1]
}

/** Returns the command's output, or undefined when the program is not on PATH. */
async function runVersionCommand(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  try {
    const result = await runCommand(command, args, { env, timeoutMs: VERSION_CHECK_TIMEOUT_MS })
    return result.output
  } catch (error) {
    if (error instanceof StackError && error.context.isMissing === true) return undefined
    throw error
  }
}
