// Polls until a condition holds: a hang guard for tests on real servers, never a timing assertion.
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  /** Give up after this long, in ms. @default 60_000 */
  readonly limitMs?: number;
  /** Pause between two reads, in ms. @default 50 */
  readonly stepMs?: number;
}

/**
 * Calls `read` until `done(value)` holds and returns that value; a read that throws counts as "not
 * yet" (the thing may not exist yet). Fails naming `what` and the last value read.
 */
export async function waitFor<T>(
  read: () => Promise<T> | T,
  done: (value: T) => boolean,
  what: string,
  options: WaitForOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.limitMs ?? 60_000);
  let last: T | undefined;
  while (Date.now() < deadline) {
    try {
      last = await read();
      if (done(last)) return last;
    } catch {
      // not there yet
    }
    await sleep(options.stepMs ?? 50);
  }
  throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(last)}`);
}
