// What each `healthlake-emulator` command is: it parses its own flags (node's parseArgs) and
// resolves with an exit code (0 success, 2 a problem the user must fix, 1 a bug).

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
