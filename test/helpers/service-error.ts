// The one check every emulator test makes of a refused call: it rejected with HealthLake's modelled
// error of that name (as the real SDK client raises it) and that message.
import assert from 'node:assert/strict';
import { HealthLakeServiceException } from '@aws-sdk/client-healthlake';

/**
 * Awaits `call`'s rejection and asserts it is a `HealthLakeServiceException` named `name` whose
 * message is `message` (exactly, or matching a RegExp). Returns the error for further checks
 * (`$metadata.httpStatusCode`, `$metadata.attempts`).
 */
export async function expectServiceError(
  call: Promise<unknown>,
  name: string,
  message: string | RegExp,
): Promise<HealthLakeServiceException> {
  let caught: HealthLakeServiceException | undefined;
  await assert.rejects(call, (err: unknown) => {
    assert.ok(
      err instanceof HealthLakeServiceException,
      `expected a HealthLakeServiceException, got ${String(err)}`,
    );
    assert.equal(err.name, name);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    caught = err;
    return true;
  });
  return caught!;
}
