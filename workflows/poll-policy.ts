// When to describe an import job next, and how far along it is. Pure functions of the poll count,
// the last change, the clock and an injected random source, so the exact sequence is testable.
import { DEFAULT_POLL_POLICY, type ImportJobCounts, type ImportJobStatus, type PollPolicy } from './types';

/** HealthLake reports sizes in MB; we (and the emulator) count a MB as 10^6 bytes. */
export const BYTES_PER_MB = 1_000_000;

/** What the next wait depends on. */
export interface PollState {
  /**
   * Describe calls since the backoff last restarted (0 = on this call). For an import that is the
   * last status change: count changes do not restart it (they used to, which kept a moving job at
   * the floor: 113 Describes per job against the AWS waiter's 14).
   */
  readonly pollsSinceChange: number;
  readonly status: ImportJobStatus;
  /** Estimated time to completion, when a manifest gives the total. */
  readonly etaMs?: number;
  /** Describe calls since the ETA first came within the floor (the end is due), if it has. */
  readonly pollsSinceEtaDue?: number;
  /** This Describe saw the counts move: the next report cannot come before `reportRefreshMs`. */
  readonly countsChanged?: boolean;
  /**
   * The total is known (a manifest) but there is no ETA yet (no pace measured: the report has not
   * moved since the job went IN_PROGRESS): the next Describe waits for HealthLake's next report
   * (`reportRefreshMs`), the first that can give a pace, instead of backing off from the floor.
   */
  readonly awaitingPace?: boolean;
  /** Now, epoch ms (the caller's clock). */
  readonly nowMs: number;
  /** Epoch ms after which waiting is pointless (the workflow's deadline). */
  readonly deadlineMs?: number;
}

/** The optional policy settings, with their defaults (a policy from an older workflow lacks them). */
function extendedPolicy(
  policy: PollPolicy,
): Required<Omit<PollPolicy, 'eventSafetyNetDelayMs' | 'awaitFirstEventMs'>> {
  return {
    ...policy,
    reportRefreshMs: policy.reportRefreshMs ?? DEFAULT_POLL_POLICY.reportRefreshMs ?? 30_000,
    etaFraction: policy.etaFraction ?? DEFAULT_POLL_POLICY.etaFraction ?? 0.5,
    progressIntervalMs: policy.progressIntervalMs ?? DEFAULT_POLL_POLICY.progressIntervalMs ?? 600_000,
  };
}

/** True when a known ETA is so close that its fraction is below the floor: poll densely now. */
export function etaDue(etaMs: number | undefined, policy: PollPolicy): boolean {
  return etaMs !== undefined && extendedPolicy(policy).etaFraction * etaMs < policy.minDelayMs;
}

/**
 * The wait before the next Describe, in whole ms.
 *
 * - QUEUED: `queuedDelayMs` (a queued job waits for the one ahead of it; polling fast buys nothing).
 * - With a known ETA (a manifest's total): `etaFraction` of the remaining ETA, capped at
 *   `progressIntervalMs`: a 2-hour job is described every 10 min while its end is far, then at
 *   halving intervals. Once that fraction is below the floor the end is due: the floor, backing
 *   off by `multiplier` per poll since (capped at `maxDelayMs`), so an ETA that was too short does
 *   not become a floor-rate loop.
 * - Otherwise `minDelayMs · multiplierⁿ` for n polls since the status changed, capped at
 *   `maxDelayMs`; a poll that saw the counts move waits at least `reportRefreshMs` (HealthLake
 *   cannot have a newer report sooner).
 * - Jitter removes up to `jitter` of the wait (`random()` in [0, 1)), so thousands of imports
 *   started together spread out; the floor still holds.
 * - Ends at the deadline when it comes first, but never below the floor: a wait shorter than
 *   `minDelayMs` would turn into a Describe loop that skips the rate limit. Once the deadline has
 *   passed there is no next wait at all: see {@link nextPoll}.
 *
 * @example nextPollDelayMs({ pollsSinceChange: 2, status: 'IN_PROGRESS', nowMs }, policy, () => 0)
 *          // 20_000 with the defaults (5 s · 2²)
 */
export function nextPollDelayMs(state: PollState, policy: PollPolicy, random: () => number): number {
  const p = extendedPolicy(policy);
  const { minDelayMs, maxDelayMs, multiplier, jitter } = p;
  const backoff = (polls: number): number =>
    Math.min(maxDelayMs, minDelayMs * Math.pow(multiplier, Math.max(0, polls)));
  let delay: number;
  let floor = minDelayMs;
  if (state.status === 'QUEUED') {
    delay = Math.max(p.queuedDelayMs, minDelayMs);
  } else if (state.etaMs !== undefined && !etaDue(state.etaMs, p)) {
    delay = Math.max(minDelayMs, Math.min(p.progressIntervalMs, p.etaFraction * state.etaMs));
  } else if (state.etaMs !== undefined) {
    delay = backoff(state.pollsSinceEtaDue ?? 0);
  } else {
    delay = backoff(state.pollsSinceChange);
    if (state.countsChanged || (state.awaitingPace && state.status === 'IN_PROGRESS')) {
      floor = Math.max(floor, Math.min(p.reportRefreshMs, maxDelayMs));
    }
    delay = Math.max(delay, floor);
  }
  delay = delay * (1 - jitter * clampUnit(random()));
  delay = Math.max(floor, delay);
  if (state.deadlineMs !== undefined) {
    delay = Math.min(delay, Math.max(minDelayMs, state.deadlineMs - state.nowMs));
  }
  return Math.round(delay);
}

/** What to do after a Describe that saw no change: wait, or stop because the deadline has passed. */
export type PollDecision =
  { readonly kind: 'wait'; readonly delayMs: number } | { readonly kind: 'deadline-passed' };

/**
 * {@link nextPollDelayMs}, or `deadline-passed` once `nowMs` has reached `deadlineMs`: the wait ends
 * and the caller hands back to the workflow (which fails with `HealthLakeImportDeadlineExceeded`)
 * instead of describing again.
 */
export function nextPoll(state: PollState, policy: PollPolicy, random: () => number): PollDecision {
  if (state.deadlineMs !== undefined && state.nowMs >= state.deadlineMs) return { kind: 'deadline-passed' };
  return { kind: 'wait', delayMs: nextPollDelayMs(state, policy, random) };
}

function clampUnit(value: number): number {
  return Number.isFinite(value) ? Math.min(Math.max(value, 0), 1) : 0;
}

/** What is known about the job's total work and its pace. */
export interface CompletionInput {
  readonly counts: ImportJobCounts;
  readonly status: ImportJobStatus;
  /** Bytes the landing manifest says are under the input prefix. */
  readonly totalBytes?: number;
  /** Epoch ms when the job was first seen IN_PROGRESS (measured pace starts there). */
  readonly inProgressSinceMs?: number;
  readonly nowMs: number;
}

/**
 * Percent complete (0..100, one decimal) and remaining time (ms) from MB scanned vs. bytes landed.
 * The pace is what we measured since the job went IN_PROGRESS; HealthLake's own Throughput is used
 * only before there is a measurement. Terminal successes are 100 %.
 */
export function estimateCompletion(input: CompletionInput): { percent?: number; etaMs?: number } {
  const { counts, totalBytes, status } = input;
  if (status === 'COMPLETED' || status === 'COMPLETED_WITH_ERRORS') {
    return totalBytes === undefined ? {} : { percent: 100, etaMs: 0 };
  }
  if (totalBytes === undefined || totalBytes <= 0) return {};
  const scannedBytes = counts.scannedMb * BYTES_PER_MB;
  const percent = Math.min(100, Math.round((scannedBytes / totalBytes) * 1000) / 10);
  const remainingBytes = Math.max(0, totalBytes - scannedBytes);
  const elapsedMs = input.inProgressSinceMs === undefined ? 0 : input.nowMs - input.inProgressSinceMs;
  let bytesPerMs = 0;
  if (elapsedMs > 0 && scannedBytes > 0) bytesPerMs = scannedBytes / elapsedMs;
  else if (counts.throughput > 0) bytesPerMs = (counts.throughput * BYTES_PER_MB) / 1000;
  if (bytesPerMs <= 0) return { percent };
  return { percent, etaMs: Math.round(remainingBytes / bytesPerMs) };
}

/** True when two reports differ in any count (throughput excluded: it wobbles without progress). */
export function countsChanged(a: ImportJobCounts, b: ImportJobCounts): boolean {
  return (
    a.scannedFiles !== b.scannedFiles ||
    a.scannedMb !== b.scannedMb ||
    a.importedFiles !== b.importedFiles ||
    a.resourcesScanned !== b.resourcesScanned ||
    a.resourcesImported !== b.resourcesImported ||
    a.resourcesWithCustomerError !== b.resourcesWithCustomerError ||
    a.filesReadWithCustomerError !== b.filesReadWithCustomerError
  );
}

/** All counts zero: the report before the job reads anything. */
export const ZERO_COUNTS: ImportJobCounts = {
  scannedFiles: 0,
  scannedMb: 0,
  importedFiles: 0,
  resourcesScanned: 0,
  resourcesImported: 0,
  resourcesWithCustomerError: 0,
  filesReadWithCustomerError: 0,
  throughput: 0,
};

/**
 * The milestone (0..maxMilestones) a percent falls in: the describe activity returns to the
 * workflow when it rises, so the workflow's `progress` query moves at most `maxMilestones` times
 * besides status changes.
 */
export function progressMilestone(percent: number | undefined, maxMilestones: number): number {
  if (percent === undefined || maxMilestones <= 0) return 0;
  return Math.min(maxMilestones, Math.floor((percent / 100) * (maxMilestones + 1)));
}

/**
 * How much longer each progress return waits than the one before it (log-spaced returns). 12, so a
 * 2-hour import at the default cadence makes one return (10 min in; the next would be 2 h after
 * that): 31 + 6 = 37 history events, within issue 9's 40 (with 4 it made two: 43). Only the
 * activity's `progressDueAtMs` argument changes, no command: older histories replay unchanged.
 */
export const PROGRESS_RETURN_GROWTH = 12;

/**
 * When the wait hands fresh counts back to the workflow for the `returned`-th time in a status
 * (0-based), measured from `sinceMs` (the last return to the workflow): `progressIntervalMs · 12^returned`,
 * or `null` once `maxProgressMilestones` returns have been made (the history budget is spent; the
 * heartbeat stays live). Log-spaced so a long job gets a few refreshes, not one per interval: with
 * the defaults 10 min after the job goes IN_PROGRESS and 2 h after that.
 */
export function progressDueAtMs(sinceMs: number, returned: number, policy: PollPolicy): number | null {
  if (returned >= policy.maxProgressMilestones) return null;
  return sinceMs + extendedPolicy(policy).progressIntervalMs * Math.pow(PROGRESS_RETURN_GROWTH, returned);
}
