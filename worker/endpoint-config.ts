// Checks the endpoint URLs a process is configured with (HEALTHLAKE_ENDPOINT, S3_ENDPOINT,
// --s3-endpoint) at start-up, so a typo fails in milliseconds with the name, the value and the
// rule, instead of as a connection error on the first AWS call.

/** Thrown for an endpoint that is not an http(s) URL; names where it came from, the value and the rule. */
export class EndpointConfigError extends Error {
  override readonly name = 'EndpointConfigError';
  constructor(
    /** The flag or environment variable, e.g. `--s3-endpoint` or `HEALTHLAKE_ENDPOINT`. */
    readonly source: string,
    readonly value: string,
    readonly rule: string,
  ) {
    super(`${source} ${JSON.stringify(value)} must be ${rule}`);
  }
}

const RULE = 'an http(s) URL, e.g. http://127.0.0.1:4566';

/**
 * Returns `value` when it is an absolute `http:` or `https:` URL with a host, and `undefined` when
 * it is unset or empty (the caller's "use AWS" default).
 *
 * @example
 * const endpoint = checkHttpEndpoint('S3_ENDPOINT', process.env.S3_ENDPOINT); // throws on 'not-a-url'
 * @throws EndpointConfigError naming `source`, the value and the rule.
 */
export function checkHttpEndpoint(source: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EndpointConfigError(source, value, RULE);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '')
    throw new EndpointConfigError(source, value, RULE);
  return value;
}
