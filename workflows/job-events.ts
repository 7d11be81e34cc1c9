// HealthLake's EventBridge job events as the import workflow receives them: the signal a relay
// (client/event-relay.ts) sends for each `aws.healthlake` event, the detail-types it understands,
// and the safety-net policy the wait uses while events arrive. Bundle-safe (part of the contract).
import { defineSignal } from '@temporalio/workflow';
import type { ImportJobStatus, PollPolicy } from './types';

/** EventBridge's `source` for HealthLake's own events. */
export const HEALTHLAKE_EVENT_SOURCE = 'aws.healthlake';

/**
 * The import detail-types HealthLake sends (AWS EventBridge events reference, "AWS HealthLake
 * events") and the job status each one announces. The event's `detail` carries no status: the
 * detail-type is the status.
 */
export const IMPORT_JOB_EVENT_STATUSES = {
  'Import Job Submitted': 'SUBMITTED',
  'Import Job Queued': 'QUEUED',
  'Import Job In Progress': 'IN_PROGRESS',
  'Import Job Completed': 'COMPLETED',
  'Import Job Completed With Errors': 'COMPLETED_WITH_ERRORS',
  'Import Job Failed': 'FAILED',
} as const satisfies Record<string, ImportJobStatus>;

/** Every detail-type HealthLake sends (imports, exports, data stores), for the EventBridge rule. */
export const HEALTHLAKE_EVENT_DETAIL_TYPES = [
  ...Object.keys(IMPORT_JOB_EVENT_STATUSES),
  'Export Job Submitted',
  'Export Job Queued',
  'Export Job In Progress',
  'Export Job Completed',
  'Export Job Completed With Errors',
  'Export Job Failed',
  'Data Store Creating',
  'Data Store Creation Failed',
  'Data Store Active',
  'Data Store Deleting',
  'Data Store Deleted',
] as const;

/** The job status an import detail-type announces, or undefined for any other detail-type. */
export function importStatusOfDetailType(detailType: string): ImportJobStatus | undefined {
  return Object.hasOwn(IMPORT_JOB_EVENT_STATUSES, detailType)
    ? IMPORT_JOB_EVENT_STATUSES[detailType as keyof typeof IMPORT_JOB_EVENT_STATUSES]
    : undefined;
}

/** One HealthLake job event, as the relay signals it to the waiting import. */
export interface HealthLakeJobEvent {
  readonly datastoreId: string;
  readonly jobId: string;
  /** The status the event's detail-type announces (`Import Job Completed` → `COMPLETED`). */
  readonly status: ImportJobStatus;
  /** EventBridge's event id (a duplicate delivery has the same one). */
  readonly eventId: string;
  /** EventBridge's `time` (ISO 8601): when HealthLake emitted the event. */
  readonly time: string;
}

/**
 * Signal to `fhirImportWorkflow`: HealthLake announced a job status change. A terminal status
 * wakes the wait at once (one Describe for the counts and output, then the import finishes); any
 * event for the job switches the wait's polling to the safety-net schedule
 * (`pollPolicy.eventSafetyNetDelayMs`). Duplicates, events older than what the workflow knows and
 * events for other jobs change nothing. Sent by `createHealthLakeEventRelay`; safe to send by hand.
 *
 * @example await handle.signal(healthLakeJobEventSignal, { datastoreId, jobId, status: 'COMPLETED', eventId, time })
 */
export const healthLakeJobEventSignal = defineSignal<[HealthLakeJobEvent]>('healthLakeJobEvent');

/** Default of `pollPolicy.eventSafetyNetDelayMs`: 10 min (safety-net Describes at 10, 30, 70 min, then every 2 h). */
export const DEFAULT_EVENT_SAFETY_NET_DELAY_MS = 600_000;
/** The safety net backs off up to this many times its first delay (2 h with the default). */
export const EVENT_SAFETY_NET_MAX_FACTOR = 12;
/**
 * With a known total, the safety net's next Describe comes this many times the remaining ETA after
 * the last one: after the expected end, never before it (the default 20 % jitter leaves 1.2×), so
 * while events arrive the end event cancels it and it is never made. If the end event is lost, the
 * end is found at most half the remaining ETA (as estimated at the last Describe) after the
 * expected end, and never later than the safety net's cap after the last Describe.
 */
export const EVENT_SAFETY_NET_ETA_FACTOR = 1.5;

/** Order of job statuses as events announce them; every terminal status ranks last. */
export function importEventRank(status: ImportJobStatus | 'NOT_STARTED'): number {
  switch (status) {
    case 'NOT_STARTED':
      return -1;
    case 'SUBMITTED':
      return 0;
    case 'QUEUED':
      return 1;
    case 'IN_PROGRESS':
      return 2;
    default:
      return 3;
  }
}

/**
 * The poll policy of a wait while job events arrive: polling is only the safety net for an event
 * that never comes (a relay that is down, a rule or target that stopped delivering), so the first
 * Describe waits `eventSafetyNetDelayMs` and later ones back off by `multiplier` up to
 * {@link EVENT_SAFETY_NET_MAX_FACTOR} times it, whatever the normal schedule's floor and cap (a
 * QUEUED job included).
 *
 * With a known total the ETA places the next Describe AFTER the expected end
 * ({@link EVENT_SAFETY_NET_ETA_FACTOR} times the remaining ETA, at least the safety net's delay, at
 * most its cap) instead of polling densely towards it: the normal schedule's `etaFraction` (0.5)
 * capped at `progressIntervalMs` (10 min) described a 2-hour import every 10 min although its
 * events arrived (13 Describes, measured in the polling bench). The progress cadence
 * (`progressDueAtMs`, computed by the workflow from the caller's policy) is kept: its returns ride
 * on safety-net Describes (a wait never describes sooner than the safety net's floor for one), so
 * with the defaults the first return comes with the first safety-net Describe and the next 2 h
 * later; between them the live counts are those of the last safety-net Describe, in the heartbeat.
 * Every other setting stays.
 */
export function eventSafetyNetPolicy(policy: PollPolicy): PollPolicy {
  const first = policy.eventSafetyNetDelayMs ?? DEFAULT_EVENT_SAFETY_NET_DELAY_MS;
  const cap = first * EVENT_SAFETY_NET_MAX_FACTOR;
  return {
    ...policy,
    initialDelayMs: first,
    minDelayMs: first,
    maxDelayMs: cap,
    queuedDelayMs: first,
    etaFraction: EVENT_SAFETY_NET_ETA_FACTOR,
    // The ETA-placed Describe may come up to 1.5 × the cap (3 h) after the last one, so that jitter
    // (which takes up to 20 % off a wait) never brings it before an end that is 2 h away.
    progressIntervalMs: cap * EVENT_SAFETY_NET_ETA_FACTOR,
  };
}
