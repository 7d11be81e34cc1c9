// NextToken/MaxResults pagination over a filtered, ordered list. The token is opaque to clients
// (base64 of the offset and the filter it was issued for), so a token reused with another filter
// is rejected instead of silently skipping items.
import { validationError } from '../errors';

/** HealthLake's default page size when MaxResults is absent. */
export const DEFAULT_MAX_RESULTS = 100;

export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

export function paginate<T>(
  items: readonly T[],
  request: { NextToken?: string; MaxResults?: number },
  filterKey: string,
): Page<T> {
  const offset =
    request.NextToken === undefined || request.NextToken === '' ? 0 : decode(request.NextToken, filterKey);
  const size = request.MaxResults ?? DEFAULT_MAX_RESULTS;
  const end = offset + size;
  return {
    items: items.slice(offset, end),
    nextToken:
      end < items.length
        ? Buffer.from(JSON.stringify({ o: end, f: filterKey })).toString('base64url')
        : undefined,
  };
}

function decode(token: string, filterKey: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const { o, f } = (parsed ?? {}) as { o?: unknown; f?: unknown };
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0 || f !== filterKey)
    throw validationError(
      `Value '${token}' at 'nextToken' failed to satisfy constraint: Member must be a NextToken returned by a previous call with the same filters`,
    );
  return o;
}
