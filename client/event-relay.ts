// The event relay: long-polls the SQS queue an EventBridge rule fills with HealthLake's job events
// and turns each import event into `healthLakeJobEventSignal` on the import waiting for that job.
// A message is deleted only after its signal was accepted (or it is known to be harmless), so a
// relay that crashes loses nothing: SQS delivers the message again.
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  HEALTHLAKE_EVENT_SOURCE,
  healthLakeJobEventSignal,
  importStatusOfDetailType,
  type HealthLakeJobEvent,
} from '../workflows/job-events';
import { HealthLakeDatastoreId, HealthLakeJobId } from '../workflows/types';

/** Where the relay says what it did: ids and statuses only (events carry no PHI, the log neither). */
export interface RelayLogger {
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
}

export interface HealthLakeEventRelayOptions {
  /** An SQS client for the queue's region (or moto's endpoint locally). */
  readonly sqs: Pick<SQSClient, 'send'>;
  /** The queue the EventBridge rule targets. */
  readonly queueUrl: string;
  /** A Temporal client for the namespace the imports run in. */
  readonly client: Client;
  /** Long-poll wait of one ReceiveMessage, in seconds (SQS allows 0..20). @default 20 */
  readonly waitTimeSeconds?: number;
  /** Messages per ReceiveMessage (1..10). @default 10 */
  readonly maxMessages?: number;
  /**
   * An event for a job no import is found for yet (its workflow has not recorded the job id: the
   * `Import Job Submitted` event can come before StartFHIRImportJob's answer is back in the
   * workflow) is left in the queue and seen again after `retryDelaySeconds`, for this long after
   * the event's `time`; after that it is deleted as a job no import waits for (started outside
   * Temporal, or by an import that is gone). In ms. @default 120_000
   */
  readonly unknownJobGraceMs?: number;
  /** How soon a message that could not be delivered yet is received again, in seconds. @default 2 */
  readonly retryDelaySeconds?: number;
  /** Job id → workflow id entries kept (one visibility query per job, not per event). @default 10_000 */
  readonly cacheSize?: number;
  /** @default one line per entry on stderr */
  readonly logger?: RelayLogger;
  /** Epoch ms. @default Date.now */
  readonly clock?: () => number;
}

/** What happened to each message (the `stats()` counters). */
export const RelayOutcome = {
  /** Signalled to the running import, then deleted. */
  Signalled: 'signalled',
  /** The import has already closed: the event is late and harmless; deleted. */
  ImportClosed: 'import-closed',
  /** No import waits for this job and the grace has passed; deleted after a log line. */
  UnknownJob: 'unknown-job',
  /** Not an import job event of `aws.healthlake` (export, data store): deleted. */
  Ignored: 'ignored',
  /** Left in the queue to be received again: no import found yet, or Temporal did not answer. */
  Retried: 'retried',
  /** Not an EventBridge envelope the relay understands: left for the queue's dead-letter queue. */
  Malformed: 'malformed',
} as const;
export type RelayOutcome = (typeof RelayOutcome)[keyof typeof RelayOutcome];

export interface RelayStats extends Record<RelayOutcome, number> {
  /** Messages received (a redelivered one counts each time). */
  readonly received: number;
  /** Visibility queries made to find an import by job id. */
  readonly lookups: number;
}

export interface HealthLakeEventRelay {
  /**
   * Receives and relays until `signal` aborts, long-polling the queue; resolves once the receive in
   * flight (at most `waitTimeSeconds`) and its messages are done.
   */
  run(signal?: AbortSignal): Promise<void>;
  /** One ReceiveMessage and its messages; resolves with each message's outcome. */
  pollOnce(signal?: AbortSignal): Promise<RelayOutcome[]>;
  stats(): RelayStats;
}

type ImportLookup =
  | { readonly kind: 'running'; readonly workflowId: string }
  | { readonly kind: 'closed' }
  | { readonly kind: 'none' };

/** Extra lookups for an event whose import is not found yet, before SQS redelivers it, in ms. */
const FRESH_EVENT_RETRY_MS = [100, 250] as const;

/** True while an event is young enough that its import may just not be searchable yet. */
function isFresh(event: HealthLakeJobEvent, nowMs: number, graceMs: number): boolean {
  const eventMs = Date.parse(event.time);
  return Number.isFinite(eventMs) && nowMs - eventMs < graceMs;
}

/** Job ids as HealthLake writes them; anything else is not put into a visibility query. */
const ID_PATTERN = /^[A-Za-z0-9_.:/=+\-%@]{1,64}$/;

const stderrLogger: RelayLogger = {
  info: (message, meta) =>
    process.stderr.write(`relay: ${message}${meta ? ' ' + JSON.stringify(meta) : ''}\n`),
  warn: (message, meta) =>
    process.stderr.write(`relay: WARN ${message}${meta ? ' ' + JSON.stringify(meta) : ''}\n`),
};

/** An import job event read from an SQS message body, or why it is not one. */
export function parseHealthLakeJobEvent(
  body: string | undefined,
):
  | { kind: 'event'; event: HealthLakeJobEvent }
  | { kind: 'ignored'; detailType: string }
  | { kind: 'malformed'; reason: string } {
  let envelope: unknown;
  try {
    envelope = JSON.parse(body ?? '');
  } catch {
    return { kind: 'malformed', reason: 'body is not JSON' };
  }
  if (typeof envelope !== 'object' || envelope === null)
    return { kind: 'malformed', reason: 'body is not an object' };
  const e = envelope as Record<string, unknown>;
  const detailType = e['detail-type'];
  if (typeof detailType !== 'string' || typeof e.source !== 'string')
    return { kind: 'malformed', reason: 'no "source" or "detail-type": not an EventBridge envelope' };
  const status = importStatusOfDetailType(detailType);
  if (e.source !== HEALTHLAKE_EVENT_SOURCE || status === undefined) return { kind: 'ignored', detailType };
  const detail = e.detail as Record<string, unknown> | undefined;
  const datastoreId = detail?.datastoreId;
  const jobId = detail?.jobId;
  if (typeof datastoreId !== 'string' || !ID_PATTERN.test(datastoreId))
    return {
      kind: 'malformed',
      reason: `detail.datastoreId ${JSON.stringify(datastoreId)} is not a data store id`,
    };
  if (typeof jobId !== 'string' || !ID_PATTERN.test(jobId))
    return { kind: 'malformed', reason: `detail.jobId ${JSON.stringify(jobId)} is not a job id` };
  return {
    kind: 'event',
    event: {
      datastoreId,
      jobId,
      status,
      eventId: typeof e.id === 'string' ? e.id : '',
      time: typeof e.time === 'string' ? e.time : '',
    },
  };
}

/**
 * Creates the relay from HealthLake's job events (EventBridge → SQS) to the imports waiting for
 * them. Run it as its own process (`temporal-healthlake relay`) or inside any service that has a
 * Temporal client: one or more per queue; SQS hands each message to one of them.
 *
 * How it finds the import for `(datastoreId, jobId)`: the events carry no job name and no workflow
 * id, and an import's workflow id is its caller's choice, so the relay asks Temporal's visibility
 * once per job (`HealthLakeJobId = <jobId> AND HealthLakeDatastoreId = <id>`, the search attributes
 * every import records right after the start) and remembers the answer: later events of the same
 * job (In Progress, Completed) are signalled without a query. A job not found yet is retried for
 * `unknownJobGraceMs`, then deleted with a log line.
 *
 * A message is deleted only after the signal was accepted by the server, or when it is harmless
 * (the import has closed, an event of another kind). A crash between the signal and the delete
 * means one duplicate signal, which the workflow ignores.
 *
 * @example
 * const relay = createHealthLakeEventRelay({ sqs: new SQSClient({ region }), queueUrl, client });
 * await relay.run(abortController.signal);
 */
export function createHealthLakeEventRelay(options: HealthLakeEventRelayOptions): HealthLakeEventRelay {
  const { sqs, queueUrl, client } = options;
  const logger = options.logger ?? stderrLogger;
  const clock = options.clock ?? Date.now;
  const waitTimeSeconds = options.waitTimeSeconds ?? 20;
  const maxMessages = options.maxMessages ?? 10;
  const graceMs = options.unknownJobGraceMs ?? 120_000;
  const retryDelaySeconds = options.retryDelaySeconds ?? 2;
  const cacheSize = options.cacheSize ?? 10_000;
  const workflowIdByJob = new Map<string, string>();
  const counts: Record<RelayOutcome | 'received' | 'lookups', number> = {
    received: 0,
    lookups: 0,
    signalled: 0,
    'import-closed': 0,
    'unknown-job': 0,
    ignored: 0,
    retried: 0,
    malformed: 0,
  };

  const remember = (jobId: string, workflowId: string): void => {
    workflowIdByJob.delete(jobId);
    workflowIdByJob.set(jobId, workflowId);
    if (workflowIdByJob.size > cacheSize) workflowIdByJob.delete(workflowIdByJob.keys().next().value!);
  };

  /** The running import waiting for the job, `closed` when only closed ones exist, or `none`. */
  async function findImport(event: HealthLakeJobEvent): Promise<ImportLookup> {
    const cached = workflowIdByJob.get(event.jobId);
    if (cached !== undefined) return { kind: 'running', workflowId: cached };
    counts.lookups++;
    let closed = false;
    const query = `${HealthLakeJobId.name} = '${event.jobId}' AND ${HealthLakeDatastoreId.name} = '${event.datastoreId}'`;
    for await (const execution of client.workflow.list({ query, pageSize: 10 })) {
      if (execution.status.name === 'RUNNING') {
        remember(event.jobId, execution.workflowId);
        return { kind: 'running', workflowId: execution.workflowId };
      }
      closed = true;
    }
    return { kind: closed ? 'closed' : 'none' };
  }

  const deleteMessage = (message: Message) =>
    sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
  const retryLater = (message: Message) =>
    sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: message.ReceiptHandle,
        VisibilityTimeout: retryDelaySeconds,
      }),
    );

  async function relayMessage(message: Message): Promise<RelayOutcome> {
    const parsed = parseHealthLakeJobEvent(message.Body);
    if (parsed.kind === 'malformed') {
      // Not ours to destroy: the queue's redrive policy moves it to the dead-letter queue.
      logger.warn('message is not a HealthLake job event; left for the dead-letter queue', {
        messageId: message.MessageId,
        reason: parsed.reason,
      });
      return RelayOutcome.Malformed;
    }
    if (parsed.kind === 'ignored') {
      await deleteMessage(message);
      return RelayOutcome.Ignored;
    }
    const { event } = parsed;
    const ids = {
      datastoreId: event.datastoreId,
      jobId: event.jobId,
      status: event.status,
      eventId: event.eventId,
    };
    let target: ImportLookup;
    try {
      target = await findImport(event);
      // The Submitted event usually comes while StartFHIRImportJob's answer is on its way to the
      // workflow, a moment before the job id is searchable: look again shortly before handing the
      // message back to SQS (whose redelivery has whole-second granularity).
      for (const delayMs of FRESH_EVENT_RETRY_MS) {
        if (target.kind !== 'none' || !isFresh(event, clock(), graceMs)) break;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        target = await findImport(event);
      }
      if (target.kind === 'running') {
        try {
          await client.workflow.getHandle(target.workflowId).signal(healthLakeJobEventSignal, event);
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          workflowIdByJob.delete(event.jobId);
          target = { kind: 'closed' };
        }
      }
    } catch (err) {
      logger.warn('Temporal did not answer; the event stays in the queue', {
        ...ids,
        error: err instanceof Error ? err.name : 'error',
      });
      await retryLater(message);
      return RelayOutcome.Retried;
    }
    if (target.kind === 'none') {
      if (isFresh(event, clock(), graceMs)) {
        await retryLater(message);
        return RelayOutcome.Retried;
      }
      logger.info('no import waits for this job; event deleted', ids);
      await deleteMessage(message);
      return RelayOutcome.UnknownJob;
    }
    await deleteMessage(message);
    if (target.kind === 'closed') return RelayOutcome.ImportClosed;
    logger.info('signalled', { ...ids, workflowId: target.workflowId });
    return RelayOutcome.Signalled;
  }

  const relay: HealthLakeEventRelay = {
    async pollOnce(signal) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: maxMessages,
          WaitTimeSeconds: waitTimeSeconds,
        }),
        { abortSignal: signal },
      );
      counts.received += Messages.length;
      const outcomes: RelayOutcome[] = [];
      for (const message of Messages) {
        const outcome = await relayMessage(message);
        counts[outcome]++;
        outcomes.push(outcome);
      }
      return outcomes;
    },
    async run(signal) {
      let failures = 0;
      while (!signal?.aborted) {
        try {
          // The long poll in flight is not aborted: messages SQS hands to an abandoned request stay
          // invisible for the queue's visibility timeout. A stop finishes it (at most
          // `waitTimeSeconds`) and relays what it brought.
          await relay.pollOnce();
          failures = 0;
        } catch (err) {
          if (signal?.aborted) break;
          // SQS unreachable or throttling: back off (1 s, 2 s, ... 30 s) and go on.
          failures++;
          const delayMs = Math.min(30_000, 1_000 * 2 ** (failures - 1));
          logger.warn('ReceiveMessage failed; retrying', {
            error: err instanceof Error ? err.name : 'error',
            retryInMs: delayMs,
          });
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, delayMs);
            signal?.addEventListener('abort', () => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
      }
    },
    stats: () => ({ ...counts }),
  };
  return relay;
}
