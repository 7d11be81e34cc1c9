// The polling engine every HealthLake wait runs on (import jobs, export jobs, data store create and
// delete): one Describe per activity attempt, long waits handed to the server as a BENIGN failure
// with `nextRetryDelay`, short ones slept inside the attempt, a heartbeat only when something
// changed, and exact Describe counts across attempts. It knows nothing about HealthLake: a wait
// supplies its `step` (one Describe and its decision). `createStatusWait` builds the step from a
// status table for operations without progress counts.
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { nextPoll, nextPollDelayMs } from '../workflows/poll-policy';
import { classifyStatus, StatusOutcome, type StatusTable } from '../workflows/status-table';
import type { PollPolicy } from '../workflows/types';
import { awsErrorToFailure, classifyAwsError } from './aws-errors';

/** The outcome of one Describe inside a wait. */
export type WaitStep<H, R> =
  | { readonly kind: 'return'; readonly result: R }
  | {
      readonly kind: 'wait';
      readonly delayMs: number;
      readonly status: string;
      /** Where the wait stands after this Describe (what a heartbeat would carry). */
      readonly state: H;
      /** The status or a count moved on this Describe. */
      readonly changed: boolean;
    }
  | {
      readonly kind: 'error';
      readonly failure: Error;
      readonly state: H;
      /** Set when the error is worth retrying (throttling, 5xx, network): after this long. */
      readonly retryDelayMs?: number;
    };

/** One wait, as {@link runHybridWait} needs it. `H` is the heartbeat, `R` what the wait returns. */
export interface HybridWaitSpec<H extends object, R> {
  /** The last heartbeat of an earlier attempt of this same wait, if any. */
  readonly saved: H | undefined;
  /** Where the wait stands when no earlier attempt heartbeated (the workflow's last view). */
  readonly initial: H;
  /** The status the workflow last saw (for the first hand-back's message). */
  readonly knownStatus: string;
  /** Wait before the first Describe, in ms (0 = describe at once). */
  readonly firstDelayMs: number;
  readonly policy: Pick<PollPolicy, 'inAttemptWaitMaxMs' | 'attemptTimeoutMs'>;
  /** One Describe and its decision. */
  step(state: H): Promise<WaitStep<H, R>>;
  /** `state` with `calls` more Describe calls counted (attempts that left no heartbeat). */
  addCalls(state: H, calls: number): H;
  /** The attempt that sent a saved heartbeat. */
  attemptOf(saved: H): number | undefined;
  /** The BENIGN failure that schedules the next attempt after `delayMs`. */
  stillRunning(status: string, delayMs: number, state: H): ApplicationFailure;
  /** Epoch ms. */
  readonly clock: () => number;
}

/**
 * Runs one attempt of a wait (Temporal's polling patterns combined, chosen by measurement: see
 * activities/README.md). A wait of `inAttemptWaitMaxMs` or more ends the attempt with the BENIGN
 * `stillRunning` failure whose `nextRetryDelay` is the wait, so between Describes no worker slot is
 * held, no history event is written and the task queue's rate limit caps Describe calls. Shorter
 * waits sleep inside the attempt, for at most half of `attemptTimeoutMs`.
 *
 * The state is heartbeated at the first moment of the wait and on every change (each heartbeat that
 * reaches the server is a billed action, so unchanged polls send none). Attempts after the one that
 * sent the last heartbeat each made exactly one Describe (an attempt that makes more, sees a
 * change, or heartbeated earlier records itself before it hands back), so counts stay exact.
 * Cancellation aborts the in-attempt sleep (and, through the step, the in-flight Describe).
 */
export async function runHybridWait<H extends object, R>(spec: HybridWaitSpec<H, R>): Promise<R> {
  const ctx = Context.current();
  const { attempt } = ctx.info;
  const { policy, clock } = spec;
  let startedMs = clock();
  let lastBeat: H | undefined;
  const beat = (current: H): void => {
    lastBeat = current;
    ctx.heartbeat({ ...current, attempt });
  };
  let state: H;
  if (spec.saved === undefined) {
    state = spec.initial;
    beat(state); // the UI and clients see this wait from its first moment
    // The first delay is slept inside the first attempt whenever it fits (the 5 s floor after a
    // status change does), so that attempt makes its Describe: handing it back to the server
    // instead made every first attempt a rate-limited dispatch with no HealthLake call (25-34 % of
    // the API queue's dispatches, measured in issue 9). Only a delay longer than half the attempt
    // timeout (the 60 s QUEUED wait) still goes back to the server without a call.
    if (spec.firstDelayMs > 0 && spec.firstDelayMs > policy.attemptTimeoutMs / 2) {
      throw spec.stillRunning(spec.knownStatus, spec.firstDelayMs, state);
    }
    if (spec.firstDelayMs > 0) await ctx.sleep(spec.firstDelayMs);
    startedMs = clock(); // the in-attempt budget below counts from the first Describe
  } else {
    const unrecorded = Math.max(0, attempt - (spec.attemptOf(spec.saved) ?? attempt) - 1);
    state = spec.addCalls(spec.saved, unrecorded);
  }
  for (let describes = 1; ; describes++) {
    const step = await spec.step(state);
    if (step.kind === 'return') return step.result;
    state = step.state;
    const changed = step.kind === 'wait' && step.changed;
    // Before handing back: record only what a later attempt could not infer.
    const recordBeforeHandBack = (): void => {
      if (lastBeat !== undefined ? lastBeat !== state : describes > 1 || changed) beat(state);
    };
    const delayMs = step.kind === 'error' ? step.retryDelayMs : step.delayMs;
    const inAttemptBudgetMs = policy.attemptTimeoutMs / 2 - (clock() - startedMs);
    if (delayMs === undefined || delayMs >= policy.inAttemptWaitMaxMs || delayMs > inAttemptBudgetMs) {
      recordBeforeHandBack();
      throw step.kind === 'error' ? step.failure : spec.stillRunning(step.status, step.delayMs, state);
    }
    if (changed) beat(state);
    await ctx.sleep(delayMs);
  }
}

/** The message of a still-running retry: what a person reads in the UI's "last failure" box. */
export function stillRunningMessage(label: string, status: string, delayMs: number): string {
  return `waiting, not an error: ${label} is ${status}; next Describe in ${humanDelay(delayMs)}`;
}

/** `850 ms`, `5 s`, `12.5 s`, `2 min 5 s`. */
export function humanDelay(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1_000).toFixed(1))} s`;
  const s = Math.round(ms / 1_000);
  return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/**
 * The BENIGN failure that asks Temporal to run the wait again after `delayMs`. It carries no stack
 * trace: it is the normal way a long wait goes back to the server, and the UI shows a stack as an
 * error (the SDK logs BENIGN failures at DEBUG, not WARN).
 */
export function stillRunningFailure(
  type: string,
  message: string,
  delayMs: number,
  heartbeat?: object,
): ApplicationFailure {
  const failure = ApplicationFailure.create({
    message,
    type,
    nextRetryDelay: delayMs,
    category: ApplicationFailureCategory.BENIGN,
    // The UI's "last failure" then shows the latest state even if the heartbeat raced the failure.
    ...(heartbeat === undefined ? {} : { details: [heartbeat] }),
  });
  failure.stack = '';
  return failure;
}

/** Any view a status wait returns: a status and the Describe calls made so far. */
export interface StatusView {
  readonly status: string;
  readonly describeCalls: number;
  readonly lastPolledAt?: string;
}

/** What a status wait heartbeats (and the next attempt resumes from). */
export interface StatusWaitHeartbeat<V extends StatusView> {
  readonly view: V;
  /** `view.describeCalls` when the status last changed. */
  readonly describeCallsAtChange: number;
  /** The wait's key (job or data store id): a heartbeat of another wait is ignored. */
  readonly key: string;
  readonly attempt?: number;
}

/** Arguments every status wait takes (the operation adds its ids). */
export interface StatusWaitArgs<V extends StatusView> {
  /** The status the workflow last saw; any other status returns at once. */
  readonly knownStatus: string;
  readonly pollPolicy: PollPolicy;
  /** Wait before this activity's first Describe, in ms (0 = describe at once). */
  readonly firstDelayMs: number;
  /** The workflow's last view (status and Describe calls so far). */
  readonly lastView: V;
  /** Epoch ms of the workflow's deadline: once passed, the wait hands back after its Describe. */
  readonly deadlineMs?: number;
}

/** One status-table wait: which operation, how to describe, how to read the answer. */
export interface StatusWaitDef<V extends StatusView, S extends string> {
  /** The Describe operation's AWS name, for failure messages (`DescribeFHIRExportJob`). */
  readonly operation: string;
  readonly table: StatusTable<S>;
  /** The BENIGN failure type (e.g. `ExportJobStillRunning`). */
  readonly stillRunningType: string;
  /** A human label for messages: `export job <id>`. */
  readonly label: string;
  /** The wait's key (job or data store id). */
  readonly key: string;
  /** One Describe (SDK errors thrown as they are); `describeCalls` and `lastPolledAt` are set by the engine. */
  describe(signal: AbortSignal): Promise<V>;
  readonly clock: () => number;
  readonly random: () => number;
}

/**
 * A wait over a status table: returns the view when the status differs from `knownStatus` or is no
 * longer `waiting` in the table (done, failed, cancelled or unknown: the workflow decides what each
 * means), or when the deadline has passed. Built on {@link runHybridWait}.
 */
export async function runStatusWait<V extends StatusView, S extends string>(
  def: StatusWaitDef<V, S>,
  args: StatusWaitArgs<V>,
): Promise<V> {
  const ctx = Context.current();
  const policy = args.pollPolicy;
  const pollStatus = (status: string): 'QUEUED' | 'IN_PROGRESS' =>
    status === 'QUEUED' ? 'QUEUED' : 'IN_PROGRESS';
  const saved = ((): StatusWaitHeartbeat<V> | undefined => {
    const details: unknown = ctx.info.heartbeatDetails;
    if (typeof details !== 'object' || details === null) return undefined;
    const heartbeat = details as StatusWaitHeartbeat<V>;
    return heartbeat.key === def.key && heartbeat.view !== undefined ? heartbeat : undefined;
  })();
  const step = async (state: StatusWaitHeartbeat<V>): Promise<WaitStep<StatusWaitHeartbeat<V>, V>> => {
    const previous = state.view;
    const describeCalls = previous.describeCalls + 1;
    let described: V;
    try {
      described = await def.describe(ctx.cancellationSignal);
    } catch (err) {
      const retryDelayMs = nextPollDelayMs(
        {
          pollsSinceChange: describeCalls - state.describeCallsAtChange,
          status: pollStatus(previous.status),
          nowMs: def.clock(),
          deadlineMs: args.deadlineMs,
        },
        policy,
        def.random,
      );
      const counted = { ...state, view: { ...previous, describeCalls } };
      return {
        kind: 'error',
        failure: awsErrorToFailure(err, def.operation, retryDelayMs),
        state: counted,
        ...(classifyAwsError(err).kind === 'retry' ? { retryDelayMs } : {}),
      };
    }
    const view: V = { ...described, describeCalls, lastPolledAt: new Date(def.clock()).toISOString() };
    if (
      view.status !== args.knownStatus ||
      classifyStatus(def.table, view.status) !== StatusOutcome.waiting
    ) {
      return { kind: 'return', result: view };
    }
    const decision = nextPoll(
      {
        pollsSinceChange: describeCalls - state.describeCallsAtChange,
        status: pollStatus(view.status),
        nowMs: def.clock(),
        deadlineMs: args.deadlineMs,
      },
      policy,
      def.random,
    );
    if (decision.kind === 'deadline-passed') return { kind: 'return', result: view };
    return {
      kind: 'wait',
      delayMs: decision.delayMs,
      status: view.status,
      state: { ...state, view },
      changed: false, // an unchanged status: a change returns to the workflow above
    };
  };
  return runHybridWait<StatusWaitHeartbeat<V>, V>({
    saved,
    initial: { view: args.lastView, describeCallsAtChange: args.lastView.describeCalls, key: def.key },
    knownStatus: args.knownStatus,
    firstDelayMs: args.firstDelayMs,
    policy,
    step,
    addCalls: (state, calls) => ({
      ...state,
      view: { ...state.view, describeCalls: state.view.describeCalls + calls },
    }),
    attemptOf: (heartbeat) => heartbeat.attempt,
    stillRunning: (status, delayMs, state) =>
      stillRunningFailure(
        def.stillRunningType,
        stillRunningMessage(def.label, status, delayMs),
        delayMs,
        state,
      ),
    clock: def.clock,
  });
}

/** The activity's cancellation signal, or none outside an activity (a script or a unit test). */
export function activitySignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}
