// The durable FHIR import: validate the input, start (or attach to) one HealthLake import job
// exactly once, wait for a terminal status with a history that does not grow with the job's
// duration, and return a typed result (or a typed failure).
import { renderImportDetails } from './import-details';
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { HealthLakeActivities, ImportJobSnapshot } from '../activities/import';
import { resolveApiTaskQueue } from './api-task-queue';
import { countImportCompleted, countImportFailed, countImportStarted } from './import-metrics';
import {
  importJobName,
  INPUT_RULES_PATCH,
  validateFhirImportInput,
  type FhirImportInputValidation,
  type ResolvedFhirImportInput,
} from './import-input';
import { classifyImportStatus, isTerminalImportStatus } from './import-status';
import { eventSafetyNetPolicy, healthLakeJobEventSignal, importEventRank } from './job-events';
import { progressDueAtMs, progressMilestone, ZERO_COUNTS } from './poll-policy';
import { reconcileImport, reconciliationFailureMessage } from './reconcile';
import {
  HealthLakeDatastoreId,
  HealthLakeJobId,
  HealthLakeJobStatus,
  ImportFailureType,
  NON_RETRYABLE_IMPORT_FAILURE_TYPES,
  progressQuery,
  type FhirImportInput,
  type FhirImportProgress,
  type FhirImportResult,
  type ImportAbandonedDetails,
  type ImportJobEventsView,
  type ImportJobStatus,
} from './types';

/** Workflow time: the sandbox's `Date` is deterministic (the current workflow task's time). */
function workflowNowMs(): number {
  return new Date().getTime();
}

/** Characters HealthLake allows in a job name; anything else becomes `-`. */
const JOB_NAME_DISALLOWED = /[^\p{L}\p{Z}\p{N}_.:/=+\-%@]/gu;
const MAX_JOB_NAME_CHARS = 64;

/**
 * Patch id of the identity-tagged job name and the one-List start (`importJobName`). Histories
 * recorded before it (release 18a8820) scheduled the start with the untagged name and keep it.
 */
export const JOB_NAME_IDENTITY_PATCH = 'fhir-import-job-name-identity-tag';

/**
 * Patch id of the wait that HealthLake's job events wake (`healthLakeJobEventSignal`). Called only
 * once an event for the job has arrived, so imports without events (and every history recorded
 * before it, which has no such signal) record no marker and replay unchanged.
 */
export const JOB_EVENTS_PATCH = 'healthlake-job-events-signal';

/**
 * Patch id of `pollPolicy.awaitFirstEventMs` on an attached import (`existingJobId`): its first wait
 * waits for the job's first event (one timer) instead of describing after the floor, as a started
 * import's does. Called only for an attached import with `awaitFirstEventMs` set, before any event:
 * every other import records nothing, and attached imports recorded before it keep their first
 * wait activity.
 */
export const AWAIT_FIRST_EVENT_ON_ATTACH_PATCH = 'fhir-import-await-first-event-on-attach';

/**
 * The job name of release 18a8820, kept for histories recorded before {@link JOB_NAME_IDENTITY_PATCH}:
 * the workflow id cleaned to HealthLake's characters. Not an identity (`batch(1)` and `batch[1]`
 * clean to the same name); new imports use `importJobName`.
 */
export function defaultJobName(workflowId: string): string {
  const cleaned = workflowId.replace(JOB_NAME_DISALLOWED, '-');
  if (cleaned.length <= MAX_JOB_NAME_CHARS) return cleaned;
  // Too long: keep the start and make the end unique with a hash of the whole id.
  let hash = 0x811c9dc5; // FNV-1a, 32 bit
  for (let i = 0; i < workflowId.length; i++) {
    hash ^= workflowId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const suffix = hash.toString(16).padStart(8, '0');
  return `${cleaned.slice(0, MAX_JOB_NAME_CHARS - suffix.length - 1)}-${suffix}`;
}

function trimSlash(uri: string): string {
  return uri.replace(/\/+$/, '');
}

/** The UI's current details (workflows/import-details.ts). */
const renderCurrentDetails = renderImportDetails;

function invalidInput(messages: readonly string[], fields: readonly string[]): ApplicationFailure {
  return ApplicationFailure.create({
    message: `invalid FhirImportInput: ${messages.join('; ')}`,
    type: ImportFailureType.InvalidFhirImportInput,
    nonRetryable: true,
    details: [{ fields }],
  });
}

/**
 * Imports FHIR NDJSON from S3 into a HealthLake data store as one durable workflow.
 *
 * Validates the input before any activity (a bad field fails at once, non-retryable, naming the
 * field, value and rule); starts the job exactly once (or attaches to `existingJobId`); waits with
 * one Describe per activity attempt on the HealthLake API task queue; shows live counts in the UI
 * (`setCurrentDetails`, search attributes on status changes, the `progress` query); and returns a
 * {@link FhirImportResult} or fails with a typed failure (see `ImportFailureType`).
 *
 * History stays bounded: about 14 events to start (2 of them the job-name patch) plus about 7 per
 * status change and 6 per progress return (at most `maxProgressMilestones` per status, default 2:
 * 40 events for a 2-hour import), however many times the job is described (a job found by name after a crash adds one
 * Describe activity, 3 events).
 *
 * Cancelling the workflow stops the wait (HealthLake cannot cancel an import); the workflow then
 * fails with `ImportWaitCancelled` carrying the still-running job id. A cancel that arrives while
 * the job is being started waits for the start to answer, so the id is never lost.
 */
export async function fhirImportWorkflow(rawInput: FhirImportInput): Promise<FhirImportResult> {
  countImportStarted();
  try {
    return countImportCompleted(await runImport(rawInput));
  } catch (err) {
    throw countImportFailed(surfaceActivityFailure(err));
  }
}

/**
 * An activity's non-retryable failure (AccessDenied, Validation, ResourceNotFound, ...) becomes the
 * workflow's own failure with the same type and message, so callers find every failure type at
 * `WorkflowFailedError.cause` (the ActivityFailure stays as its cause).
 */
function surfaceActivityFailure(err: unknown): unknown {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return err;
  return ApplicationFailure.create({
    message: err.cause.message,
    type: err.cause.type ?? undefined,
    nonRetryable: true,
    details: err.cause.details ?? undefined,
    cause: err,
  });
}

/** `HealthLakeImportDeadlineExceeded`: the job (if any) keeps running in HealthLake. */
function deadlineExceeded(
  input: ResolvedFhirImportInput,
  when: string,
  details: ImportAbandonedDetails,
): ApplicationFailure {
  return ApplicationFailure.create({
    message: `deadline ${input.deadline} passed ${when}`,
    type: ImportFailureType.HealthLakeImportDeadlineExceeded,
    nonRetryable: true,
    details: [details],
  });
}

/** `ImportWaitCancelled`: the workflow was cancelled; the job keeps running (imports cannot be cancelled). */
function waitCancelled(
  jobId: string,
  status: string,
  details: ImportAbandonedDetails,
  cause?: Error,
): ApplicationFailure {
  return ApplicationFailure.create({
    message: `workflow cancelled while import job ${jobId} was ${status}; the job keeps running in HealthLake (imports cannot be cancelled)`,
    type: ImportFailureType.ImportWaitCancelled,
    nonRetryable: true,
    details: [details],
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Validates with today's rules. An input that only the rules added after release 18a8820 reject
 * (overlapping S3 locations, an impossible deadline date) is checked against the patch: a history
 * recorded before those rules, where the input passed and the import went on, replays with the
 * old rules; a new import fails. Valid inputs never reach `patched`, so they record no marker.
 */
function validateInput(rawInput: FhirImportInput, nowMs: number): FhirImportInputValidation {
  const current = validateFhirImportInput(rawInput, nowMs);
  if (current.ok) return current;
  const before = validateFhirImportInput(rawInput, nowMs, { rulesSince18a8820: false });
  if (!before.ok || patched(INPUT_RULES_PATCH)) return current;
  return before;
}

async function runImport(rawInput: FhirImportInput): Promise<FhirImportResult> {
  const info = workflowInfo();
  const validation = validateInput(rawInput, info.startTime.getTime());
  if (!validation.ok) {
    throw invalidInput(
      validation.errors.map((e) => e.message),
      validation.errors.map((e) => e.field),
    );
  }
  const input: ResolvedFhirImportInput = validation.input;
  const policy = input.pollPolicy;
  const totalBytes = input.manifest?.totalBytes;

  let progress: FhirImportProgress = {
    datastoreId: input.datastoreId,
    status: 'NOT_STARTED',
    counts: ZERO_COUNTS,
    describeCalls: 0,
  };
  let last: ImportJobSnapshot | undefined;
  setHandler(progressQuery, () => progress);
  // HealthLake's job events, as the relay signals them: the newest status announced per job.
  // Registered before the start so an event is never dropped for lack of a handler.
  const eventStatus = new Map<string, ImportJobStatus>();
  const eventCount = new Map<string, number>();
  // When HealthLake said the job went IN_PROGRESS (the In Progress event's `time`): the wait measures
  // the pace from it, so the first safety-net Describe already gives an ETA to place the next one
  // after the expected end (without it the first IN_PROGRESS Describe starts the pace clock and the
  // safety net spends one more Describe before it has an ETA).
  const eventInProgressSince = new Map<string, string>();
  setHandler(healthLakeJobEventSignal, (event) => {
    eventCount.set(event.jobId, (eventCount.get(event.jobId) ?? 0) + 1);
    if (
      event.status === 'IN_PROGRESS' &&
      !eventInProgressSince.has(event.jobId) &&
      Number.isFinite(Date.parse(event.time))
    ) {
      eventInProgressSince.set(event.jobId, new Date(Date.parse(event.time)).toISOString());
    }
    const known = eventStatus.get(event.jobId);
    if (known === undefined || importEventRank(event.status) > importEventRank(known))
      eventStatus.set(event.jobId, event.status);
  });
  setCurrentDetails(renderCurrentDetails(progress));

  // The worker running this workflow names the API queue (recorded), and a queue nobody polls fails.
  const apiQueue = await resolveApiTaskQueue(input.apiTaskQueue, info.taskQueue);
  const activityOptions: ActivityOptions = {
    taskQueue: apiQueue.taskQueue,
    startToCloseTimeout: policy.attemptTimeoutMs,
    // The wait's attempts end by returning or by a cancel; TRY_CANCEL lets the workflow go on at once.
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    // Fairness per data store (or the caller's tenant) on the shared API queue. An attribute of the
    // same ScheduleActivityTask command, not a new command: older histories replay unchanged.
    priority: { fairnessKey: input.fairnessKey ?? input.datastoreId },
    retry: {
      initialInterval: policy.minDelayMs,
      backoffCoefficient: policy.multiplier,
      maximumInterval: policy.maxDelayMs,
      nonRetryableErrorTypes: [...NON_RETRYABLE_IMPORT_FAILURE_TYPES],
    },
  };
  const healthLake = proxyActivities<HealthLakeActivities>(activityOptions);

  const apply = (snapshot: ImportJobSnapshot): void => {
    const statusChanged = snapshot.progress.status !== progress.status;
    // What job events did stays on the progress (a Describe knows nothing of them).
    progress =
      progress.jobEvents === undefined
        ? snapshot.progress
        : { ...snapshot.progress, jobEvents: progress.jobEvents };
    last = snapshot;
    if (statusChanged) upsertSearchAttributes([{ key: HealthLakeJobStatus, value: progress.status }]);
    setCurrentDetails(renderCurrentDetails(progress));
  };

  // The deadline covers the whole import, start included. Its timer is shielded from a workflow
  // cancel, which is handled on its own below.
  const pastDeadline = (): boolean => input.deadlineMs !== undefined && workflowNowMs() >= input.deadlineMs;
  const deadline =
    input.deadlineMs === undefined
      ? undefined
      : CancellationScope.nonCancellable(() =>
          sleep(Math.max(1, input.deadlineMs! - workflowNowMs()), {
            summary: `import deadline ${input.deadline}`,
          }).then(() => 'deadline' as const),
        );

  // 1. Start or attach. Not cancellable: a workflow cancel while StartFHIRImportJob is in flight
  // would otherwise lose the id of a job HealthLake may already have accepted.
  const startOrAttach = CancellationScope.nonCancellable(async () => {
    if (input.existingJobId !== undefined) {
      const snapshot = await healthLake.describeImportJob({
        datastoreId: input.datastoreId,
        jobId: input.existingJobId,
        ...(totalBytes === undefined ? {} : { totalBytes }),
      });
      if (trimSlash(snapshot.inputS3Uri) !== trimSlash(input.inputS3Uri)) {
        throw ApplicationFailure.create({
          message: `input.existingJobId "${input.existingJobId}" imports ${snapshot.inputS3Uri}, not input.inputS3Uri ${input.inputS3Uri}`,
          type: ImportFailureType.ImportJobMismatch,
          nonRetryable: true,
        });
      }
      return { jobId: input.existingJobId, snapshot };
    }
    const started = await healthLake.startImportJob({
      datastoreId: input.datastoreId,
      inputS3Uri: input.inputS3Uri,
      outputS3Uri: input.outputS3Uri,
      kmsKeyId: input.kmsKeyId,
      dataAccessRoleArn: input.dataAccessRoleArn,
      // New imports tag the name with their identity (one import, one job name); histories from
      // before the patch scheduled the start with the untagged name.
      jobName: patched(JOB_NAME_IDENTITY_PATCH)
        ? importJobName(input.jobName, info.namespace, info.workflowId)
        : (input.jobName ?? defaultJobName(info.workflowId)),
      identity: `${info.namespace}/${info.workflowId}/${info.firstExecutionRunId}`,
      notBefore: info.startTime.toISOString(),
      ...(input.validationLevel === undefined ? {} : { validationLevel: input.validationLevel }),
    });
    // A job found after a crash (or returned for a reused ClientToken) may already have ended:
    // describe it once, so the result carries its counts, message and times.
    if (started.how === 'found' || isTerminalImportStatus(started.status)) {
      const snapshot = await healthLake.describeImportJob({
        datastoreId: input.datastoreId,
        jobId: started.jobId,
        ...(totalBytes === undefined ? {} : { totalBytes }),
      });
      return { jobId: started.jobId, snapshot };
    }
    return { jobId: started.jobId, status: started.status as ImportJobStatus };
  });
  const begun = await apiQueue.guard(
    Promise.race(deadline === undefined ? [startOrAttach] : [startOrAttach, deadline]),
    () => renderCurrentDetails(progress),
  );
  if (begun === 'deadline') {
    startOrAttach.catch(() => undefined); // still settles; nothing waits for it any more
    throw deadlineExceeded(
      input,
      'before StartFHIRImportJob answered (a re-run reattaches to a job it started)',
      {
        datastoreId: input.datastoreId,
        progress,
      },
    );
  }
  const jobId = begun.jobId;
  if (begun.snapshot !== undefined) {
    progress = begun.snapshot.progress;
    last = begun.snapshot;
  } else {
    progress = { ...progress, jobId, status: begun.status };
  }
  upsertSearchAttributes([
    { key: HealthLakeDatastoreId, value: input.datastoreId },
    { key: HealthLakeJobId, value: jobId },
    { key: HealthLakeJobStatus, value: progress.status },
  ]);
  setCurrentDetails(renderCurrentDetails(progress));
  // Ids and counts only (no file names, no content). The workflow logger is silent on replay.
  log.info('HealthLake import job started', {
    datastoreId: input.datastoreId,
    jobId,
    status: progress.status,
    attached: input.existingJobId !== undefined,
  });
  const abandoned = (): ImportAbandonedDetails => ({ datastoreId: input.datastoreId, jobId, progress });
  // Cancelled while the start was in flight: now the job id is known, fail naming it.
  if (CancellationScope.current().consideredCancelled)
    throw waitCancelled(jobId, progress.status, abandoned());

  // Job events: what they did for this import (absent until one arrives), and whether the wait
  // trusts them (`eventsFailed` once a Describe found a change no event announced).
  let jobEvents: ImportJobEventsView | undefined;
  let eventsFailed = false;
  let eventsPatch: boolean | undefined;
  const eventsPatched = (): boolean => (eventsPatch ??= patched(JOB_EVENTS_PATCH));
  const jobEventStatus = (): ImportJobStatus | undefined => eventStatus.get(jobId);
  /** A terminal status announced by an event that the workflow has not seen yet. */
  const terminalEventPending = (): boolean => {
    const announced = jobEventStatus();
    return (
      announced !== undefined &&
      isTerminalImportStatus(announced) &&
      !isTerminalImportStatus(progress.status) &&
      !eventsFailed
    );
  };
  const noteEvents = (detectedBy?: 'event' | 'poll'): void => {
    const announced = jobEventStatus();
    if (announced === undefined) return;
    jobEvents = {
      received: eventCount.get(jobId) ?? 0,
      lastStatus: announced,
      ...(detectedBy === undefined
        ? {}
        : { detectedBy, detectedAt: new Date(workflowNowMs()).toISOString() }),
      ...(eventsFailed ? { fellBackToPolling: true } : {}),
    };
    progress = { ...progress, jobEvents };
    setCurrentDetails(renderCurrentDetails(progress));
  };
  /**
   * The one Describe an event buys: fresh counts, message and end time for the result. True when
   * it found the end. When HealthLake's Describe does not show the status the event announced yet
   * (eventual consistency), the wait goes back to normal polling rather than trust events again.
   */
  const describeForEvent = async (): Promise<boolean> => {
    const snapshot = await proxyActivities<HealthLakeActivities>({
      ...activityOptions,
      summary: `describe job ${jobId}: HealthLake announced ${jobEventStatus() ?? 'a change'}`,
    }).describeImportJob({
      datastoreId: input.datastoreId,
      jobId,
      ...(totalBytes === undefined ? {} : { totalBytes }),
    });
    const counted: ImportJobSnapshot = {
      ...snapshot,
      progress: {
        ...snapshot.progress,
        describeCalls: progress.describeCalls + snapshot.progress.describeCalls,
      },
    };
    apply(counted);
    const ended = isTerminalImportStatus(progress.status);
    if (!ended) eventsFailed = true;
    noteEvents(ended ? 'event' : undefined);
    return ended;
  };

  /**
   * When the job went IN_PROGRESS, for the wait's pace: the last Describe's, or the In Progress
   * event's time when the event moved the status (no Describe saw IN_PROGRESS yet). An activity
   * argument, not a command: older histories replay unchanged.
   */
  const inProgressSinceArg = (): { inProgressSince?: string } => {
    const since =
      last?.inProgressSince ??
      (progress.status === 'IN_PROGRESS' ? eventInProgressSince.get(jobId) : undefined);
    return since === undefined ? {} : { inProgressSince: since };
  };

  // 2. Wait for a terminal status, within the deadline and until cancelled.
  const waitScope = new CancellationScope();
  const waiting = waitScope.run(async (): Promise<'done' | 'deadline'> => {
    let first = input.existingJobId === undefined;
    // An attached import described the job once already; its first wait can still wait for the
    // job's first event (behind its own patch: it adds a timer where older code scheduled a wait).
    let attachedFirst = input.existingJobId !== undefined;
    // Fresh counts go back to the workflow (query, current details) on a log-spaced schedule per
    // status (`progressDueAtMs`), for every import, manifest or not: each return costs 6 history
    // events, so their number is bounded (`maxProgressMilestones`) and the heartbeat stays the live
    // source between them. Only activity arguments change (no new commands), so histories recorded
    // before this replay unchanged and need no patch.
    let progressReturns = 0;
    let lastReturnMs = workflowNowMs();
    let describeCallsAtChange = progress.describeCalls;
    while (
      !isTerminalImportStatus(progress.status) &&
      classifyImportStatus(progress.status).kind !== 'unknown'
    ) {
      const knownStatus = progress.status;
      // An event already announced the end (it came while the previous wait was handing back):
      // describe once for the counts and output, without waiting.
      if (terminalEventPending() && eventsPatched()) {
        const described = await describeForEvent();
        if (described) continue;
      }
      // A caller that runs the event relay can have the first Describe wait for the job's first
      // event (`pollPolicy.awaitFirstEventMs`): one timer, and no Describe at all when it comes.
      let awaitedMs = 0;
      if (
        (first || attachedFirst) &&
        policy.awaitFirstEventMs !== undefined &&
        jobEventStatus() === undefined &&
        // The attach patch first: a history recorded before it never reaches eventsPatched() here
        // (that code asked only once an event had come, and the answer is kept for the import).
        (first || patched(AWAIT_FIRST_EVENT_ON_ATTACH_PATCH)) &&
        eventsPatched()
      ) {
        const awaitStartMs = workflowNowMs();
        await condition(() => jobEventStatus() !== undefined, policy.awaitFirstEventMs);
        awaitedMs = workflowNowMs() - awaitStartMs;
      }
      // Events for this job are arriving: polling is only the safety net (long, backing off).
      const eventsLive = !eventsFailed && jobEventStatus() !== undefined && eventsPatched();
      if (eventsLive) noteEvents();
      const waitPolicy = eventsLive ? eventSafetyNetPolicy(policy) : policy;
      // On the safety net, a wait after a progress return goes on backing off from where the last
      // one stopped instead of restarting at the safety net's floor.
      const firstDelayMs = eventsLive
        ? Math.min(
            waitPolicy.maxDelayMs,
            waitPolicy.minDelayMs *
              Math.pow(waitPolicy.multiplier, Math.max(0, progress.describeCalls - describeCallsAtChange)),
          )
        : first
          ? Math.max(0, policy.initialDelayMs - awaitedMs)
          : Math.max(0, (knownStatus === 'QUEUED' ? policy.queuedDelayMs : policy.minDelayMs) - awaitedMs);
      first = false;
      attachedFirst = false;
      // Each wait runs in its own scope, so an event can cancel it (TRY_CANCEL: at once) without
      // cancelling the import. A scope and a condition emit no commands: histories from before job
      // events, which have no signal, replay unchanged.
      const pollScope = new CancellationScope();
      const poll = pollScope.run(() =>
        proxyActivities<HealthLakeActivities>({
          ...activityOptions,
          summary: eventsLive
            ? `wait for job ${jobId} to leave ${knownStatus} (safety net: job events are arriving)`
            : `wait for job ${jobId} to leave ${knownStatus}`,
        }).awaitImportJobChange({
          datastoreId: input.datastoreId,
          jobId,
          knownStatus,
          knownMilestone: progressMilestone(progress.percent, policy.maxProgressMilestones),
          progressDueAtMs: progressDueAtMs(lastReturnMs, progressReturns, policy),
          describeCallsAtChange,
          pollPolicy: waitPolicy,
          firstDelayMs,
          lastProgress: progress,
          ...(totalBytes === undefined ? {} : { totalBytes }),
          ...(input.deadlineMs === undefined ? {} : { deadlineMs: input.deadlineMs }),
          ...inProgressSinceArg(),
        }),
      );
      // Wake on an event that announces the end, or on the first event of a wait polling on the
      // normal schedule (to switch it to the safety net: a job can sit SUBMITTED or QUEUED for
      // minutes, and the normal schedule would describe it all that time).
      const firstEventPending = (): boolean => !eventsLive && !eventsFailed && jobEventStatus() !== undefined;
      // While on the safety net, a status announced ahead of the wait's (In Progress while it
      // waits to leave Submitted) restarts the wait from that status, so its next Describe is not
      // spent finding what the event already said.
      const aheadEventPending = (): boolean =>
        eventsLive && !eventsFailed && importEventRank(jobEventStatus()!) > importEventRank(knownStatus);
      let settled = false;
      const woken = await Promise.race([
        poll,
        condition(() => settled || terminalEventPending() || firstEventPending() || aheadEventPending()).then(
          () => 'event' as const,
        ),
      ]);
      settled = true; // lets the losing condition resolve instead of lingering
      if (woken === 'event' && eventsPatched()) {
        pollScope.cancel();
        poll.catch(() => undefined); // cancelled on purpose; nothing waits for it any more
        if (terminalEventPending()) {
          await describeForEvent();
        } else {
          // A status the event announced ahead of ours (In Progress while we know Submitted) is
          // taken as is: no Describe for it (counts come with the end, or the safety net).
          const announced = jobEventStatus()!;
          if (importEventRank(announced) > importEventRank(progress.status)) {
            progress = { ...progress, status: announced };
            upsertSearchAttributes([{ key: HealthLakeJobStatus, value: announced }]);
            progressReturns = 0;
            describeCallsAtChange = progress.describeCalls;
          }
          noteEvents();
        }
        continue;
      }
      const snapshot = woken === 'event' ? await poll : woken;
      // A Describe found a status no event announced: events stopped reaching this import (relay
      // down, rule or target broken). Poll on the normal schedule from now on.
      if (
        eventsLive &&
        snapshot.progress.status !== knownStatus &&
        importEventRank(snapshot.progress.status) > importEventRank(jobEventStatus() ?? 'NOT_STARTED')
      ) {
        eventsFailed = true;
      }
      if (snapshot.progress.status === knownStatus) {
        progressReturns++;
      } else {
        progressReturns = 0;
        describeCallsAtChange = snapshot.progress.describeCalls;
      }
      lastReturnMs = workflowNowMs();
      apply(snapshot);
      if (jobEventStatus() !== undefined && eventsPatch === true)
        noteEvents(isTerminalImportStatus(progress.status) ? 'poll' : undefined);
      // The wait hands back unchanged once the deadline has passed (it does not describe again).
      if (!isTerminalImportStatus(progress.status) && pastDeadline()) return 'deadline';
    }
    return 'done';
  });
  try {
    // One timer for the whole import (2 history events), not one per poll.
    const outcome = await Promise.race(deadline === undefined ? [waiting] : [waiting, deadline]);
    if (outcome === 'deadline') {
      waitScope.cancel();
      waiting.catch(() => undefined); // its cancellation is expected; nothing waits for it any more
      throw deadlineExceeded(
        input,
        `while import job ${jobId} was ${progress.status}; the job keeps running in HealthLake`,
        abandoned(),
      );
    }
  } catch (err) {
    if (isCancellation(err)) throw waitCancelled(jobId, progress.status, abandoned(), err as Error);
    throw err;
  }

  // 3. Terminal handling.
  const result = finish(input, jobId, progress, last, workflowNowMs());
  const counts = result.progress.counts;
  log.info('HealthLake import finished', {
    datastoreId: input.datastoreId,
    jobId,
    status: result.status,
    resourcesImported: counts.resourcesImported,
    resourcesScanned: counts.resourcesScanned,
    resourcesWithCustomerError: counts.resourcesWithCustomerError,
    describeCalls: result.describeCalls,
    durationMs: result.durationMs,
  });
  return result;
}

function finish(
  input: ResolvedFhirImportInput,
  jobId: string,
  progress: FhirImportProgress,
  last: ImportJobSnapshot | undefined,
  nowMs: number,
): FhirImportResult {
  const outcome = classifyImportStatus(progress.status);
  const message = last?.message;
  const details = { datastoreId: input.datastoreId, jobId, message, progress };
  switch (outcome.kind) {
    case 'waiting':
    case 'unknown':
      throw ApplicationFailure.create({
        message: `import job ${jobId} reported status "${progress.status}", which this workflow does not know`,
        type: ImportFailureType.UnknownImportJobStatus,
        nonRetryable: true,
        details: [details],
      });
    case 'failed':
      throw ApplicationFailure.create({
        message: `import job ${jobId} FAILED: ${message ?? 'HealthLake gave no message; read the job manifest.json'}`,
        type: ImportFailureType.HealthLakeImportFailed,
        nonRetryable: true,
        details: [details],
      });
    case 'cancelled':
      throw ApplicationFailure.create({
        message: `import job ${jobId} ended ${progress.status}${message ? `: ${message}` : ''}`,
        type: ImportFailureType.HealthLakeImportCancelled,
        nonRetryable: true,
        details: [details],
      });
    case 'completed':
    case 'completed-with-errors':
      break;
  }
  const counts = progress.counts;
  const errorRate =
    counts.resourcesScanned > 0 ? counts.resourcesWithCustomerError / counts.resourcesScanned : 0;
  const outputFolderS3Uri = `${trimSlash(last?.outputS3Uri ?? input.outputS3Uri)}/${input.datastoreId}-FHIR_IMPORT-${jobId}/`;
  const warnings: string[] = [];
  if (outcome.kind === 'completed-with-errors') {
    warnings.push(
      `COMPLETED_WITH_ERRORS: ${counts.resourcesWithCustomerError} of ${counts.resourcesScanned} resources and ` +
        `${counts.filesReadWithCustomerError} files failed; see ${outputFolderS3Uri}FAILURE/`,
    );
  }
  const reconciliation = input.manifest === undefined ? undefined : reconcileImport(input.manifest, counts);
  if (reconciliation && reconciliation.mismatches.length > 0) {
    warnings.push(reconciliationFailureMessage(reconciliation));
  }
  const submitMs = last ? Date.parse(last.submitTime) : nowMs;
  const endMs = last?.endTime === undefined ? nowMs : Date.parse(last.endTime);
  const result: FhirImportResult = {
    jobId,
    datastoreId: input.datastoreId,
    ...(last?.jobName === undefined ? {} : { jobName: last.jobName }),
    status: outcome.status,
    progress,
    ...(message === undefined ? {} : { message }),
    outputFolderS3Uri,
    manifestS3Uri: `${outputFolderS3Uri}manifest.json`,
    submitTime: new Date(submitMs).toISOString(),
    ...(last?.endTime === undefined ? {} : { endTime: last.endTime }),
    durationMs: Math.max(0, endMs - submitMs),
    describeCalls: progress.describeCalls,
    errorRate,
    warnings,
    ...(reconciliation === undefined ? {} : { reconciliation }),
  };
  const policy = input.completedWithErrors;
  if (policy.mode === 'fail-above-error-rate' && errorRate > policy.maxErrorRate) {
    throw ApplicationFailure.create({
      message: `import job ${jobId} ${progress.status} with error rate ${errorRate.toFixed(4)} (${counts.resourcesWithCustomerError} of ${counts.resourcesScanned} resources), above the allowed ${policy.maxErrorRate}`,
      type: ImportFailureType.HealthLakeImportErrorRateExceeded,
      nonRetryable: true,
      details: [result],
    });
  }
  if (input.reconciliation === 'strict' && reconciliation && reconciliation.mismatches.length > 0) {
    throw ApplicationFailure.create({
      message: reconciliationFailureMessage(reconciliation),
      type: ImportFailureType.HealthLakeImportReconciliationMismatch,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}
