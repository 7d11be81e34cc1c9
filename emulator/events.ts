// HealthLake's job events, as an EventBridge rule with an SQS target delivers them: each status
// change of an import or export job becomes one EventBridge envelope (`source: aws.healthlake`,
// `detail-type: "Import Job Completed"`, ...) sent as the body of one SQS message. Off unless a
// queue URL is given. A fault knob drops, delays or duplicates events so tests can prove that
// polling still finds what the events missed.
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { JobStatus } from '@aws-sdk/client-healthlake';
import type { JobRecord } from './state/records';

/** EventBridge's `source` for HealthLake's own events. */
export const HEALTHLAKE_EVENT_SOURCE = 'aws.healthlake';

/**
 * The detail-types HealthLake sends to EventBridge for jobs (AWS EventBridge events reference,
 * "AWS HealthLake events"), by job kind and the status the job entered. Data store events
 * (`Data Store Creating`, `Active`, ...) are not emitted by the emulator.
 */
export const JOB_EVENT_DETAIL_TYPES = {
  import: {
    SUBMITTED: 'Import Job Submitted',
    QUEUED: 'Import Job Queued',
    IN_PROGRESS: 'Import Job In Progress',
    COMPLETED: 'Import Job Completed',
    COMPLETED_WITH_ERRORS: 'Import Job Completed With Errors',
    FAILED: 'Import Job Failed',
  },
  export: {
    SUBMITTED: 'Export Job Submitted',
    QUEUED: 'Export Job Queued',
    IN_PROGRESS: 'Export Job In Progress',
    COMPLETED: 'Export Job Completed',
    COMPLETED_WITH_ERRORS: 'Export Job Completed With Errors',
    FAILED: 'Export Job Failed',
  },
} as const satisfies Record<JobRecord['kind'], Partial<Record<JobStatus, string>>>;

/**
 * One EventBridge event as its SQS target receives it (the message body is this JSON). The
 * documented `detail` fields are `datastoreId`, `jobId`, `submitTime` and `inputDataConfig`; the
 * job's status is only in `detail-type`, and there are no progress counters and no job name.
 */
export interface HealthLakeJobEventEnvelope {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: typeof HEALTHLAKE_EVENT_SOURCE;
  readonly account: string;
  /** ISO 8601, second precision (EventBridge's format). */
  readonly time: string;
  readonly region: string;
  /** The data store's ARN. */
  readonly resources: readonly string[];
  readonly detail: {
    readonly datastoreId: string;
    readonly jobId: string;
    /** ISO 8601. */
    readonly submitTime: string;
    /** Import only: where the job reads. */
    readonly inputDataConfig?: { readonly s3Uri: string };
  };
}

/**
 * A fault rule for events. The first rule whose `detailTypes` match an event decides its fate;
 * an event no rule matches is sent at once, once.
 */
export interface EventFaultRule {
  /** The detail-types this rule applies to. @default every detail-type */
  readonly detailTypes?: readonly string[];
  /** Never send the event (a missing rule or a broken target). @default false */
  readonly drop?: boolean;
  /** Send the event this long after the status change, in ms (later events can overtake it). @default 0 */
  readonly delayMs?: number;
  /** Extra copies to send, same event id (EventBridge delivers at least once). @default 0 */
  readonly duplicates?: number;
}

/** What the publisher has done since start. */
export interface EventCounters {
  /** SQS messages sent (duplicates included). */
  readonly sent: number;
  readonly dropped: number;
  /** Extra copies sent. */
  readonly duplicated: number;
  readonly delayed: number;
  /** SendMessage calls that failed (reported through `onError`). */
  readonly failed: number;
}

export interface JobEvents {
  /** The queue events go to, or undefined when events are off. */
  readonly queueUrl: string | undefined;
  /** A job was created (SUBMITTED, or QUEUED behind another job: both events are sent). */
  jobCreated(job: JobRecord): void;
  /** A job entered `job.status` (IN_PROGRESS or a terminal status). */
  jobChanged(job: JobRecord): void;
  counters(): EventCounters;
  faults(): readonly EventFaultRule[];
  /** Replaces the fault rules (an empty list: deliver everything). */
  setFaults(rules: readonly EventFaultRule[]): void;
  /** Resolves when every send started so far has answered (delayed events included). */
  flushed(): Promise<void>;
  /** Cancels delayed events not yet sent, waits for sends in flight, closes the SQS client. */
  stop(): Promise<void>;
}

export interface JobEventsOptions {
  /** Queue URL, e.g. moto's `http://127.0.0.1:5000/123456789012/healthlake-events`. */
  readonly queueUrl: string | undefined;
  readonly region: string;
  readonly accountId: string;
  nowMs(): number;
  /** The SQS client to send with (not destroyed by `stop`). @default one built for the queue URL's host */
  readonly sqs?: SQSClient;
  readonly rules?: readonly EventFaultRule[];
  readonly onError: (message: string) => void;
}

/** Checks fault rules from the control API or an option; throws naming the field. */
export function checkEventFaultRules(value: unknown): EventFaultRule[] {
  if (!Array.isArray(value)) throw new Error('events faults: "rules" must be an array of rules');
  return value.map((rule: unknown, i) => {
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule))
      throw new Error(`events faults: rules[${i}] must be an object`);
    const r = rule as Record<string, unknown>;
    for (const key of Object.keys(r)) {
      if (!['detailTypes', 'drop', 'delayMs', 'duplicates'].includes(key))
        throw new Error(
          `events faults: rules[${i}].${key} is not a rule field (detailTypes, drop, delayMs, duplicates)`,
        );
    }
    if (
      r.detailTypes !== undefined &&
      (!Array.isArray(r.detailTypes) || r.detailTypes.some((t) => typeof t !== 'string'))
    )
      throw new Error(`events faults: rules[${i}].detailTypes must be an array of detail-type strings`);
    if (r.drop !== undefined && typeof r.drop !== 'boolean')
      throw new Error(`events faults: rules[${i}].drop ${JSON.stringify(r.drop)} must be a boolean`);
    for (const key of ['delayMs', 'duplicates'] as const) {
      const n = r[key];
      if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 3_600_000))
        throw new Error(
          `events faults: rules[${i}].${key} ${JSON.stringify(n)} must be an integer in 0..3600000`,
        );
    }
    return r;
  });
}

const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The envelope for `job` entering `status`, or undefined for a status HealthLake sends no event for. */
export function jobEventEnvelope(
  job: JobRecord,
  status: JobStatus,
  at: { readonly region: string; readonly accountId: string; readonly nowMs: number },
): HealthLakeJobEventEnvelope | undefined {
  const detailType = (JOB_EVENT_DETAIL_TYPES[job.kind] as Partial<Record<JobStatus, string>>)[status];
  if (detailType === undefined) return undefined;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source: HEALTHLAKE_EVENT_SOURCE,
    account: at.accountId,
    time: isoSeconds(at.nowMs),
    region: at.region,
    resources: [`arn:aws:healthlake:${at.region}:${at.accountId}:datastore/fhir/${job.datastoreId}`],
    detail: {
      datastoreId: job.datastoreId,
      jobId: job.jobId,
      submitTime: new Date(job.submitTimeMs).toISOString(),
      ...(job.inputS3Uri === undefined ? {} : { inputDataConfig: { s3Uri: job.inputS3Uri } }),
    },
  };
}

/** The SQS endpoint for a queue URL: its scheme and host (moto's server, or AWS's regional SQS). */
function endpointOf(queueUrl: string): string {
  return new URL(queueUrl).origin;
}

export function createJobEvents(options: JobEventsOptions): JobEvents {
  const { queueUrl, onError } = options;
  let rules: readonly EventFaultRule[] = options.rules ? checkEventFaultRules(options.rules) : [];
  const counts = { sent: 0, dropped: 0, duplicated: 0, delayed: 0, failed: 0 };
  const inFlight = new Set<Promise<void>>();
  const timers = new Set<NodeJS.Timeout>();
  let sqs: SQSClient | undefined = options.sqs;
  const ownClient = sqs === undefined && queueUrl !== undefined;
  if (ownClient) {
    sqs = new SQSClient({
      endpoint: endpointOf(queueUrl),
      region: options.region,
      // A local queue accepts any credentials; against AWS the default chain is used instead.
      ...(isLocal(queueUrl) ? { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } : {}),
    });
  }

  const send = (envelope: HealthLakeJobEventEnvelope): void => {
    const body = JSON.stringify(envelope);
    const sending = sqs!
      .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }))
      .then(
        () => {
          counts.sent++;
        },
        (err: unknown) => {
          counts.failed++;
          onError(
            `emulator: event ${envelope['detail-type']} for job ${envelope.detail.jobId} not sent: ${err instanceof Error ? err.name : 'error'}`,
          );
        },
      )
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };

  const emit = (job: JobRecord, status: JobStatus): void => {
    if (queueUrl === undefined) return;
    const envelope = jobEventEnvelope(job, status, { ...options, nowMs: options.nowMs() });
    if (envelope === undefined) return;
    const rule = rules.find(
      (r) => r.detailTypes === undefined || r.detailTypes.includes(envelope['detail-type']),
    );
    if (rule?.drop) {
      counts.dropped++;
      return;
    }
    const copies = 1 + (rule?.duplicates ?? 0);
    counts.duplicated += copies - 1;
    const deliver = (): void => {
      for (let i = 0; i < copies; i++) send(envelope);
    };
    if ((rule?.delayMs ?? 0) > 0) {
      counts.delayed++;
      const timer = setTimeout(() => {
        timers.delete(timer);
        deliver();
      }, rule!.delayMs);
      timers.add(timer);
    } else deliver();
  };

  return {
    queueUrl,
    jobCreated(job) {
      emit(job, 'SUBMITTED');
      if (job.status === 'QUEUED') emit(job, 'QUEUED');
    },
    jobChanged: (job) => emit(job, job.status),
    counters: () => ({ ...counts }),
    faults: () => rules,
    setFaults(next) {
      rules = checkEventFaultRules(next);
    },
    async flushed() {
      while (inFlight.size > 0 || timers.size > 0) {
        if (inFlight.size > 0) await Promise.allSettled([...inFlight]);
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...inFlight]);
      if (ownClient) sqs?.destroy();
    },
  };
}

function isLocal(queueUrl: string): boolean {
  const host = new URL(queueUrl).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}
