import { Command, CommanderError } from 'commander'
import { PeregrineError, errorMessage } from '../core/errors.js'
import { registerStackCommand } from './commands/stack.js'
import { VERSION } from './options.js'
import { registerSinkCommand } from './commands/sink.js'
import { registerProbeCommand } from './commands/probe.js'
import { registerProcessCommand } from './commands/process.js'
import { registerDemoCommand } from './commands/demo.js'
import { registerRulesCommand } from './commands/rules.js'
import { registerScenariosCommand } from './commands/scenarios.js'

/**
 * Builds the `peregrine` command with one subcommand per role. Each subcommand file only parses its
 * flags, loads the config and calls the role's entry point.
 */
export function buildProgram(): Command {
  const program = new Command('peregrine')
    .description('Runtime security monitoring over Apache Kafka, compatible with Falco rules')
    .version(VERSION)
    .showHelpAfterError()
  registerProbeCommand(program)
  registerProcessCommand(program)
  registerSinkCommand(program)
  registerStackCommand(program)
  registerDemoCommand(program)
  registerRulesCommand(program)
  registerScenariosCommand(program)
  return program
}

/**
 * Runs the command line. Expected failures (bad config, unreachable broker, invalid rules) print
 * their message without a stack trace and exit with 1.
 */
export async function runCli(argv: string[]): Promise<void> {
  const program = buildProgram().exitOverride()
  try {
    await program.parseAsync(argv)
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode)
    const prefix = error instanceof PeregrineError ? `peregrine: ${error.code}: ` : 'peregrine: '
    process.stderr.write(`${prefix}${errorMessage(error)}\n`)
    if (!(error instanceof PeregrineError) && error instanceof Error && error.stack !== undefined) {
      process.stderr.write(`${error.stack}\n`)
    }
    process.exit(1)
  }
}
