// The account's HealthLake budget counted in calls, not in activity dispatches (issue 9, item 1):
// a token bucket in front of the client, so Starts, Lists and Describes made in one worker process
// wait for their turn instead of being throttled by AWS. The API task queue's rate limit counts
// dispatches, and a dispatch is not one call: a start makes a List and a Start (plus in-attempt
// retries), a coalesced poll makes none. Give each of W worker processes 1/W of the share.
//
// Two lanes share the one bucket: the calls of waits (polls, the coalescer's Lists, a woken
// import's Describe) go before the calls of starts and lifecycle changes, because detection latency
// is what users wait for and a start can wait (issue 9: 2,000 imports started together put ~100
// start calls per worker ahead of every poll, up to 10 s each).

/** Which queue of the budget a call waits in. */
export const CallLane = {
  /** Calls of waits: polls (Describe, the coalescer's List), data store status waits. Go first. */
  Wait: 'wait',
  /** Calls of starts and lifecycle changes: the start path's List and Start, Create, Delete. */
  Bulk: 'bulk',
} as const;
export type CallLane = (typeof CallLane)[keyof typeof CallLane];

/** Options of {@link createCallBudget}. */
export interface CallBudgetOptions {
  /** Calls per second this process may make (both lanes together). */
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
   * A hard bound per lane, whatever arrives later: a wait call counts the wait calls ahead of it
   * plus the bulk share's slots among them, a bulk call the bulk calls ahead of it plus every slot
   * the wait lane may take before it (wait calls arriving after it go first). So a start's List and
   * Start each wait at most `maxWaitMs`, as before the lanes (measured without the bound: bulk
   * waits up to 15 s, 356 start-path Lists for 200 Starts against the FIFO's 308; issue 9).
   * @default 10_000
   */
  readonly maxWaitMs?: number;
  /**
   * The least share of the slots the bulk lane gets while both lanes have calls queued, so starts
   * still go out when polls alone would use the whole budget (per-job polling at scale). Rounded up
   * to one slot in `floor(1 / bulkShare)`; at most 0.5 (then the lanes alternate), since the wait
   * lane is the one that goes first.
   * @default 0.25 (at least 1 slot in 4)
   */
  readonly bulkShare?: number;
}

/** Counts of one lane (or of both together). */
export interface CallLaneStats {
  /** Calls released. */
  calls: number;
  /** Released calls that had to wait for a slot. */
  waited: number;
  /** Total ms released calls spent waiting. */
  waitedMs: number;
  /** The longest wait of a released call, in ms. */
  maxWaitedMs: number;
  /** Calls refused because their slot was more than `maxWaitMs` away. */
  refused: number;
  /** Calls whose abort signal fired while they waited (they took no slot). */
  aborted: number;
}

/** What the budget let through and how long callers waited (for the bench and metrics). */
export interface CallBudgetStats extends CallLaneStats {
  readonly byLane: Record<CallLane, CallLaneStats>;
}

export interface CallBudget {
  /**
   * Resolves when the caller may make one call of `lane`; rejects at once with a
   * `ThrottlingException` when its slot is more than `maxWaitMs` away, or with the signal's reason
   * if aborted first (the call leaves the queue; the callers behind it move up).
   */
  take(lane?: CallLane, signal?: AbortSignal): Promise<void>;
  readonly stats: CallBudgetStats;
}

interface Waiter {
  readonly arrivedMs: number;
  readonly release: () => void;
}

/**
 * Which lane gets the next slot: the wait lane, except that after `bulkEvery - 1` wait releases
 * in a row while bulk calls were queued, the next slot is bulk's. `waitsSinceBulk` counts those.
 */
function nextLane(
  waitQueued: number,
  bulkQueued: number,
  waitsSinceBulk: number,
  bulkEvery: number,
): CallLane {
  if (bulkQueued === 0) return CallLane.Wait;
  if (waitQueued === 0 || waitsSinceBulk >= bulkEvery - 1) return CallLane.Bulk;
  return CallLane.Wait;
}

/**
 * A two-lane token bucket (GCRA: each release takes the next slot `1000 / callsPerSecond` ms after
 * the previous one, `burst` slots ahead at most). Queued callers are released exactly when a slot
 * is due (one timer, no polling loop): wait-lane calls first, bulk calls at least every
 * `floor(1 / bulkShare)`-th slot while both lanes wait, FIFO within a lane. The slot of a call is
 * decided when it is released, not when it arrives, since a later wait call may go ahead of a
 * queued bulk call. Time is `Date.now` and `setTimeout` (node:test's `mock.timers` drives both).
 */
export function createCallBudget(options: CallBudgetOptions): CallBudget {
  if (!(options.callsPerSecond > 0)) {
    throw new RangeError(`callsPerSecond ${options.callsPerSecond}: must be a number above 0`);
  }
  const bulkShare = options.bulkShare ?? 0.25;
  if (!(bulkShare > 0 && bulkShare <= 0.5)) {
    throw new RangeError(`bulkShare ${bulkShare}: must be a number above 0 and at most 0.5`);
  }
  const bulkEvery = Math.floor(1 / bulkShare);
  const intervalMs = 1000 / options.callsPerSecond;
  const burst = options.burst ?? Math.max(1, Math.floor(options.callsPerSecond / 2));
  const toleranceMs = (burst - 1) * intervalMs;
  const maxWaitMs = options.maxWaitMs ?? 10_000;
  const laneStats = (): CallLaneStats => ({
    calls: 0,
    waited: 0,
    waitedMs: 0,
    maxWaitedMs: 0,
    refused: 0,
    aborted: 0,
  });
  const stats: CallBudgetStats = { ...laneStats(), byLane: { wait: laneStats(), bulk: laneStats() } };
  const queues: Record<CallLane, Waiter[]> = { wait: [], bulk: [] };
  let waitsSinceBulk = 0;
  let theoreticalMs = Date.now(); // when the bucket would be empty if every released slot were used
  let timer: ReturnType<typeof setTimeout> | undefined;

  const count = (lane: CallLane, key: 'refused' | 'aborted'): void => {
    stats[key]++;
    stats.byLane[lane][key]++;
  };

  /** When the `index`-th next slot (0: the next one) is due. */
  const slotMs = (index: number, now: number): number =>
    Math.max(now, Math.max(theoreticalMs, now) - toleranceMs + index * intervalMs);

  /**
   * The most slots that can go to others before a call of `lane` arriving now, counting calls of
   * the other lane that have not arrived yet: the other lane is taken to always have callers.
   */
  const slotsBefore = (lane: CallLane): number => {
    const streak = Math.min(waitsSinceBulk, bulkEvery - 1);
    if (lane === CallLane.Wait) {
      const ahead = queues.wait.length;
      return ahead + Math.floor((streak + ahead) / (bulkEvery - 1));
    }
    return bulkEvery - 1 - streak + queues.bulk.length * bulkEvery;
  };

  /** Releases every caller whose slot is due, then sleeps until the next slot. */
  const pump = (): void => {
    timer = undefined;
    const now = Date.now();
    while (queues.wait.length + queues.bulk.length > 0) {
      const dueMs = slotMs(0, now);
      if (dueMs > now) {
        timer = setTimeout(pump, dueMs - now);
        return;
      }
      const lane = nextLane(queues.wait.length, queues.bulk.length, waitsSinceBulk, bulkEvery);
      if (lane === CallLane.Wait) {
        if (queues.bulk.length > 0) waitsSinceBulk++;
      } else waitsSinceBulk = 0;
      const waiter = queues[lane].shift() as Waiter;
      theoreticalMs = Math.max(theoreticalMs, now) + intervalMs;
      const waitedMs = now - waiter.arrivedMs;
      for (const counts of [stats, stats.byLane[lane]]) {
        counts.calls++;
        if (waitedMs > 0) {
          counts.waited++;
          counts.waitedMs += waitedMs;
          counts.maxWaitedMs = Math.max(counts.maxWaitedMs, waitedMs);
        }
      }
      waiter.release();
    }
  };

  return {
    stats,
    take(lane = CallLane.Wait, signal) {
      if (signal?.aborted) {
        count(lane, 'aborted');
        return Promise.reject(abortReason(signal));
      }
      const now = Date.now();
      // A slot free now with nobody queued is this call's: nothing arriving later can take it.
      const idle = queues.wait.length + queues.bulk.length === 0 && slotMs(0, now) <= now;
      const waitMs = idle ? 0 : slotMs(slotsBefore(lane), now) - now;
      if (waitMs > maxWaitMs) {
        count(lane, 'refused');
        return Promise.reject(budgetExceeded(waitMs));
      }
      return new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          const queue = queues[lane];
          queue.splice(queue.indexOf(waiter), 1);
          count(lane, 'aborted');
          reject(abortReason(signal));
        };
        const waiter: Waiter = {
          arrivedMs: now,
          release: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        queues[lane].push(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
        if (timer === undefined) pump();
      });
    },
  };
}

/**
 * Named like AWS's throttling error, so every caller retries it the same way. It never reached AWS,
 * and it says when a slot frees up (`retryAfterMs`): a caller that already made calls in its
 * attempt (the start path's List) can wait for that inside the attempt instead of starting over.
 */
function budgetExceeded(waitMs: number): Error & { readonly retryAfterMs: number } {
  return Object.assign(
    new Error(
      `HealthLake call budget of this worker is booked for the next ${Math.round(waitMs)} ms; retry later`,
    ),
    { name: 'ThrottlingException', retryAfterMs: Math.ceil(waitMs) },
  );
}

/** The wait a refusal of this process's call budget names, or undefined for any other error. */
export function callBudgetRetryAfterMs(err: unknown): number | undefined {
  const retryAfterMs = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return err instanceof Error && err.name === 'ThrottlingException' && typeof retryAfterMs === 'number'
    ? retryAfterMs
    : undefined;
}

function abortReason(signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new Error('aborted');
}

const OPERATION = /^(describe|list|start|create|delete)FHIR/;
/** Operations that start or change something; the rest (describe, list) are the calls of waits. */
const BULK_OPERATION = /^(start|create|delete)FHIR/;

/**
 * `api` with every HealthLake operation waiting for `budget` first. The call options' `budgetLane`
 * (see `HealthLakeCallOptions`) picks the lane and is stripped before the SDK sees the options;
 * without it Start/Create/Delete go in the bulk lane and Describe/List in the wait lane. The abort
 * signal of the call's options (`{ abortSignal }`, what the activities pass) also ends the wait.
 *
 * The lane is a field of the call options, not a second proxied client, because only the call
 * site knows what a List is for (the start path's List by job name is bulk, a poll's is wait), and
 * one optional field reaches it without a second client threaded through every activity factory.
 */
export function withCallBudget<Api extends object>(api: Api, budget: CallBudget): Api {
  return new Proxy(api, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || typeof value !== 'function' || !OPERATION.test(property))
        return value;
      return async (...args: unknown[]): Promise<unknown> => {
        const options = args[1] as { abortSignal?: AbortSignal; budgetLane?: CallLane } | undefined;
        let lane: CallLane = BULK_OPERATION.test(property) ? CallLane.Bulk : CallLane.Wait;
        if (options?.budgetLane !== undefined) {
          lane = options.budgetLane;
          const { budgetLane: _lane, ...sdkOptions } = options;
          args = [args[0], sdkOptions, ...args.slice(2)];
        }
        await budget.take(lane, options?.abortSignal);
        return Reflect.apply(value, target, args) as unknown;
      };
    },
  });
}
