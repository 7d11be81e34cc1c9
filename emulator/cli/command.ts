// What each `healthlake-emulator` command is: it parses its own flags (node's parseArgs) and
// resolves with an exit code (0 success, 2 a problem the user must fix, 1 a bug); and the flag
// parsing they share, so every wrong flag is the same one line on stderr and exit 2.
// (temporal-healthlake's cli/flags.ts has the same helpers for its own commands: neither package
// imports the other, and the library's CLI runs without this package installed.)
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface EmulatorCommand {
  run(args: string[]): Promise<number>;
}

/** Thrown for a flag that is not an http(s) URL; names the flag, the value and the rule. */
export class EndpointFlagError extends Error {
  override readonly name = 'EndpointFlagError';
}

/**
 * Returns `value` when it is an absolute http(s) URL with a host, `undefined` when unset or empty.
 * @throws EndpointFlagError `--s3-endpoint "not-a-url" must be an http(s) URL, e.g. http://127.0.0.1:4566`
 */
export function checkEndpointFlag(flag: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url && ['http:', 'https:'].includes(url.protocol) && url.hostname !== '') return value;
  throw new EndpointFlagError(
    `${flag} ${JSON.stringify(value)} must be an http(s) URL, e.g. http://127.0.0.1:4566`,
  );
}

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
