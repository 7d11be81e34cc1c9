// HealthLake's EventBridge events, as an EventBridge rule with an SQS target delivers them: each
// status change of an import or export job (`detail-type: "Import Job Completed"`, ...) and of a
// data store (`"Data Store Active"`, ...) becomes one EventBridge envelope (`source:
// aws.healthlake`) sent as the body of one SQS message. Off unless a queue URL is given. A fault
// knob drops, delays or duplicates events so tests can prove that polling still finds what the
// events missed.
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { DatastoreStatus, JobStatus } from '@aws-sdk/client-healthlake';
import type { DatastoreRecord, JobRecord } from './state/records';

/** EventBridge's `source` for HealthLake's own events. */
export const HEALTHLAKE_EVENT_SOURCE = 'aws.healthlake';

/**
 * The detail-types HealthLake sends to EventBridge for jobs (AWS EventBridge events reference,
 * "AWS HealthLake events"), by job kind and the status the job entered.
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
 * The detail-types HealthLake sends to EventBridge for data stores (AWS EventBridge events
 * reference, "AWS HealthLake events"), by the status the data store entered.
 */
export const DATASTORE_EVENT_DETAIL_TYPES = {
  CREATING: 'Data Store Creating',
  CREATE_FAILED: 'Data Store Creation Failed',
  ACTIVE: 'Data Store Active',
  DELETING: 'Data Store Deleting',
  DELETED: 'Data Store Deleted',
} as const satisfies Record<DatastoreStatus, string>;

/**
 * One EventBridge event as its SQS target receives it (the message body is this JSON): the
 * envelope every AWS service event has, around HealthLake's `detail`.
 */
export interface HealthLakeEventEnvelopeOf<Detail> {
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
  readonly detail: Detail;
}

/**
 * A job event. The documented `detail` fields are `datastoreId`, `jobId`, `submitTime` and
 * `inputDataConfig`; the job's status is only in `detail-type`, and there are no progress counters
 * and no job name.
 */
export type HealthLakeJobEventEnvelope = HealthLakeEventEnvelopeOf<{
  readonly datastoreId: string;
  readonly jobId: string;
  /** ISO 8601. */
  readonly submitTime: string;
  /** Import only: where the job reads. */
  readonly inputDataConfig?: { readonly s3Uri: string };
}>;

/**
 * A data store event. The `detail` fields are the ones EventBridge's schema for HealthLake's data
 * store events names (`datastoreId`, `datastoreName`, `datastoreTypeVersion`, `datastoreEndpoint`);
 * the status is only in `detail-type`.
 */
export type HealthLakeDatastoreEventEnvelope = HealthLakeEventEnvelopeOf<{
  readonly datastoreId: string;
  /** Absent for a data store created without a name. */
  readonly datastoreName?: string;
  /** `R4`. */
  readonly datastoreTypeVersion: string;
  /** The data store's FHIR endpoint, `https://healthlake.<region>.amazonaws.com/datastore/<id>/r4/`. */
  readonly datastoreEndpoint: string;
}>;

/** Any event the emulator sends: a job's or a data store's. */
export type HealthLakeEventEnvelope = HealthLakeJobEventEnvelope | HealthLakeDatastoreEventEnvelope;

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

/** The events publisher: job and data store status changes in, SQS messages out. */
export interface JobEvents {
  /** The queue events go to, or undefined when events are off. */
  readonly queueUrl: string | undefined;
  /** A job was created (SUBMITTED, or QUEUED behind another job: both events are sent). */
  jobCreated(job: JobRecord): void;
  /** A job entered `job.status` (IN_PROGRESS or a terminal status). */
  jobChanged(job: JobRecord): void;
  /** A data store entered `datastore.status` (every status has its event). */
  datastoreChanged(datastore: DatastoreRecord): void;
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

/** Where and when an event happens: the envelope fields that are not the event's own. */
export interface EventOrigin {
  readonly region: string;
  readonly accountId: string;
  readonly nowMs: number;
}

function envelope<Detail>(
  detailType: string,
  datastoreId: string,
  detail: Detail,
  at: EventOrigin,
): HealthLakeEventEnvelopeOf<Detail> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source: HEALTHLAKE_EVENT_SOURCE,
    account: at.accountId,
    time: isoSeconds(at.nowMs),
    region: at.region,
    resources: [`arn:aws:healthlake:${at.region}:${at.accountId}:datastore/fhir/${datastoreId}`],
    detail,
  };
}

/** The envelope for `job` entering `status`, or undefined for a status HealthLake sends no event for. */
export function jobEventEnvelope(
  job: JobRecord,
  status: JobStatus,
  at: EventOrigin,
): HealthLakeJobEventEnvelope | undefined {
  const detailType = (JOB_EVENT_DETAIL_TYPES[job.kind] as Partial<Record<JobStatus, string>>)[status];
  if (detailType === undefined) return undefined;
  return envelope(
    detailType,
    job.datastoreId,
    {
      datastoreId: job.datastoreId,
      jobId: job.jobId,
      submitTime: new Date(job.submitTimeMs).toISOString(),
      ...(job.inputS3Uri === undefined ? {} : { inputDataConfig: { s3Uri: job.inputS3Uri } }),
    },
    at,
  );
}

/** The envelope for `datastore` entering its current status. */
export function datastoreEventEnvelope(
  datastore: DatastoreRecord,
  at: EventOrigin,
): HealthLakeDatastoreEventEnvelope {
  return envelope(
    DATASTORE_EVENT_DETAIL_TYPES[datastore.status],
    datastore.datastoreId,
    {
      datastoreId: datastore.datastoreId,
      ...(datastore.datastoreName === undefined ? {} : { datastoreName: datastore.datastoreName }),
      datastoreTypeVersion: datastore.datastoreTypeVersion,
      datastoreEndpoint: datastore.datastoreEndpoint,
    },
    at,
  );
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

  const send = (envelope: HealthLakeEventEnvelope): void => {
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
            `emulator: event ${envelope['detail-type']} for ${subjectOf(envelope)} not sent: ${err instanceof Error ? err.name : 'error'}`,
          );
        },
      )
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };

  /** Builds the event only when events are on (`build` returns undefined: no event for that status). */
  const emit = (build: (at: EventOrigin) => HealthLakeEventEnvelope | undefined): void => {
    if (queueUrl === undefined) return;
    const envelope = build({ region: options.region, accountId: options.accountId, nowMs: options.nowMs() });
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
      emit((at) => jobEventEnvelope(job, 'SUBMITTED', at));
      if (job.status === 'QUEUED') emit((at) => jobEventEnvelope(job, 'QUEUED', at));
    },
    jobChanged: (job) => emit((at) => jobEventEnvelope(job, job.status, at)),
    datastoreChanged: (datastore) => emit((at) => datastoreEventEnvelope(datastore, at)),
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

/** What an event is about, for an error message (ids only: never a name, which could carry PHI). */
function subjectOf(envelope: HealthLakeEventEnvelope): string {
  return 'jobId' in envelope.detail
    ? `job ${envelope.detail.jobId}`
    : `data store ${envelope.detail.datastoreId}`;
}

function isLocal(queueUrl: string): boolean {
  const host = new URL(queueUrl).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}
