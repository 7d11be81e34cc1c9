// Flag parsing shared by the commands that read their own argument list after commander has
// routed to them (codec-server, ...): one strict parse and one way to report a wrong flag, so every
// such mistake is the same one line on stderr and exit 2. healthlake-emulator's commands (emulator,
// generate-fhir) have the same helpers in emulator/cli/command.ts: neither package imports the
// other, and this CLI runs without healthlake-emulator installed.
import { parseArgs, type ParseArgsConfig } from 'node:util';

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** Prints the one line of a usage error: `<prefix><message> (see --help)`. The caller exits 2. */
export function printUsageError(prefix: string, message: string): void {
  console.error(`${prefix}${message} (see --help)`);
}

/**
 * The flags in `args` (strict: unknown flags and missing values are errors), or undefined after
 * printing the parser's reason with {@link printUsageError}.
 */
export function parseFlags<const O extends FlagOptions>(
  prefix: string,
  args: string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; strict: true; options: O }>>['values'] | undefined {
  try {
    return parseArgs({ args, strict: true, options }).values;
  } catch (err) {
    printUsageError(prefix, err instanceof Error ? err.message : String(err));
    return undefined;
  }
}

/** A `--port` value (an integer in 0..65535), or undefined after printing why it is not one. */
export function parsePortFlag(prefix: string, text: string): number | undefined {
  const port = Number(text);
  if (text.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    printUsageError(prefix, `--port "${text}" must be an integer in 0..65535`);
    return undefined;
  }
  return port;
}
