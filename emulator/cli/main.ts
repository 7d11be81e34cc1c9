#!/usr/bin/env node
// The `healthlake-emulator` command: `start` (the emulator on 127.0.0.1 until SIGINT/SIGTERM) and
// `generate-fhir` (synthetic FHIR R4 NDJSON). Exit codes: 0 success, 2 a problem the user must
// fix (one line on stderr), 1 anything else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command as Program, CommanderError } from 'commander';
import { EMULATOR_CLI_COMMANDS } from './index';

const NAME = 'healthlake-emulator';
const EXIT_USAGE = 2;

/** cli/main.ts from a clone, dist/cli/main.js installed: package.json is two or three levels up. */
function packageVersion(): string {
  for (const up of [['..'], ['..', '..']]) {
    try {
      const manifest = JSON.parse(readFileSync(join(__dirname, ...up, 'package.json'), 'utf8')) as {
        name: string;
        version: string;
      };
      if (manifest.name === NAME) return manifest.version;
    } catch {
      // try the next level
    }
  }
  return 'unknown';
}

/** Runs the CLI on `argv` (without node and the script) and resolves with the exit code. */
export async function runEmulatorCli(argv: readonly string[]): Promise<number> {
  let code = 0;
  // The same conventions as temporal-healthlake's CLI (its cli/main.ts), set up twice on purpose:
  // neither package imports the other.
  const program = new Program(NAME)
    .description('A local AWS HealthLake that runs FHIR import and export jobs, for any AWS SDK.')
    .version(packageVersion(), '-V, --version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(`${text.trim().replace(/\s*\n\s*/g, ' ')} (see --help)\n`),
    });
  for (const [name, command] of Object.entries(EMULATOR_CLI_COMMANDS)) {
    const examples = command.examples.map((line) => `  $ ${NAME} ${name} ${line}`).join('\n');
    command
      .declare(program.command(name).description(command.summary))
      .addHelpText('after', `\nExample:\n${examples}\n`)
      .action(async () => {
        code = await command.load().run(argv.slice(1));
      });
  }
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    return ['commander.helpDisplayed', 'commander.version'].includes(err.code) ? 0 : EXIT_USAGE;
  }
}

if (require.main === module) {
  void runEmulatorCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
