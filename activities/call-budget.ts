// The account's HealthLake budget counted in calls, not in activity dispatches (issue 9, item 1):
// a token bucket in front of the client, so Starts, Lists and Describes made in one worker process
// wait for their turn instead of being throttled by AWS. The API task queue's rate limit counts
// dispatches, and a dispatch is not one call: a start makes a List and a Start (plus in-attempt
// retries), a coalesced poll makes none. Give each of W worker processes 1/W of the share.

/** Options of {@link createCallBudget}. */
export interface CallBudgetOptions {
  /** Calls per second this process may make. */
  readonly callsPerSecond: number;
  /**
   * Calls allowed at once after an idle spell. Half a second's worth by default, not AWS's full
   * burst: calls released together can reach the service late and bunch up with the next ones
   * (measured against the emulator: a full burst of 9 at 9 calls/s still had 2 of 25 throttled).
   * @default max(1, floor(callsPerSecond / 2))
   */
  readonly burst?: number;
  /**
   * The longest a call may wait for its slot, in ms. A call whose slot is further away takes none
   * and fails at once with a `ThrottlingException` (retried like AWS's, by the caller's backoff), so
   * a queue longer than an activity's timeout does not time out attempts that then retry and add
   * more calls (measured: 44 start attempts timed out when 200 starts were dispatched at 40/s).
   * @default 10_000
   */
  readonly maxWaitMs?: number;
  /** Epoch ms. @default Date.now */
  readonly clock?: () => number;
}

/** What the budget let through and how long callers waited (for the bench and metrics). */
export interface CallBudgetStats {
  calls: number;
  /** Calls that had to wait for a token. */
  waited: number;
  /** Total ms callers spent waiting. */
  waitedMs: number;
  /** Calls refused because their slot was more than `maxWaitMs` away. */
  refused: number;
}

export interface CallBudget {
  /** Resolves when the caller may make one call; rejects with the signal's reason if aborted first. */
  take(signal?: AbortSignal): Promise<void>;
  readonly stats: CallBudgetStats;
}

/**
 * A FIFO token bucket (GCRA: each call reserves the next slot `1000 / callsPerSecond` ms after the
 * previous one, `burst` slots ahead at most). A caller without a free slot is released exactly when
 * its slot is due (no polling loop), in arrival order, so a burst of starts cannot starve the
 * waits' polls. An aborted wait keeps its slot (the bucket errs on the side of fewer calls).
 */
export function createCallBudget(options: CallBudgetOptions): CallBudget {
  if (!(options.callsPerSecond > 0)) {
    throw new RangeError(`callsPerSecond ${options.callsPerSecond}: must be a number above 0`);
  }
  const intervalMs = 1000 / options.callsPerSecond;
  const burst = options.burst ?? Math.max(1, Math.floor(options.callsPerSecond / 2));
  const toleranceMs = (burst - 1) * intervalMs;
  const clock = options.clock ?? Date.now;
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  const stats: CallBudgetStats = { calls: 0, waited: 0, waitedMs: 0, refused: 0 };
  let theoreticalMs = clock(); // when the bucket would be empty if every reservation were used
  return {
    stats,
    take(signal) {
      const now = clock();
      const base = Math.max(theoreticalMs, now);
      const startMs = base - toleranceMs;
      if (startMs - now > maxWaitMs) {
        stats.refused++;
        return Promise.reject(budgetExceeded(startMs - now));
      }
      theoreticalMs = base + intervalMs;
      stats.calls++;
      if (startMs <= now) return Promise.resolve();
      const waitMs = startMs - now;
      stats.waited++;
      stats.waitedMs += waitMs;
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(abortReason(signal));
        const onAbort = (): void => {
          clearTimeout(timer);
          reject(abortReason(signal));
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, waitMs);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}

/** Named like AWS's throttling error, so every caller retries it the same way. */
function budgetExceeded(waitMs: number): Error {
  return Object.assign(
    new Error(
      `HealthLake call budget of this worker is booked for the next ${Math.round(waitMs)} ms; retry later`,
    ),
    { name: 'ThrottlingException' },
  );
}

function abortReason(signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new Error('aborted');
}

const OPERATION = /^(describe|list|start|create|delete)FHIR/;

/**
 * `api` with every HealthLake operation waiting for `budget` first. The abort signal of the call's
 * options (`{ abortSignal }`, what the activities pass) also ends the wait.
 */
export function withCallBudget<Api extends object>(api: Api, budget: CallBudget): Api {
  return new Proxy(api, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || typeof value !== 'function' || !OPERATION.test(property))
        return value;
      return async (...args: unknown[]): Promise<unknown> => {
        const options = args[1] as { abortSignal?: AbortSignal } | undefined;
        await budget.take(options?.abortSignal);
        return Reflect.apply(value, target, args) as unknown;
      };
    },
  });
}
