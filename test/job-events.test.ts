// Push + poll on real parts: the emulator sends HealthLake's EventBridge job events to an SQS queue
// on moto, the relay (in process, and as the `relay` CLI) signals the waiting import, and the import
// wakes at once. Polls are set far apart (2 min) so only the event can explain a fast detection.
// Dropped, duplicated and out-of-order events and a relay killed mid-run change nothing but timing.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, beforeEach, describe, it } from 'node:test';
import { temporal as proto } from '@temporalio/proto';
import { createHealthLakeEventRelay, type HealthLakeEventRelay, type RelayLogger } from '../client';
import type { HealthLakeWorker } from '../worker';
import { fhirImportWorkflow } from '../workflows';
import { healthLakeJobEventSignal } from '../workflows/job-events';
import {
  progressQuery,
  type FhirImportInput,
  type FhirImportResult,
  type PollPolicy,
} from '../workflows/types';
import { startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import { waitFor } from './helpers/wait-for';

const EventType = proto.api.enums.v1.EventType;
/** Polls this far apart cannot explain a detection within seconds. */
const SLOW_POLL: Partial<PollPolicy> = {
  initialDelayMs: 120_000,
  minDelayMs: 120_000,
  maxDelayMs: 120_000,
  queuedDelayMs: 120_000,
  attemptTimeoutMs: 10_000,
  eventSafetyNetDelayMs: 600_000,
};
/** Far less than one poll interval: a hang guard, not a timing assertion. */
const EVENT_DETECTION_LIMIT_MS = 60_000;
const silent: RelayLogger = { info: () => undefined, warn: () => undefined };

let stack: ImportTestStack;
let taskQueue: string;
let worker: HealthLakeWorker;
let workerRun: Promise<void>;

before(async () => {
  stack = await startImportTestStack({ eventsQueueName: 'healthlake-events' });
  taskQueue = uniqueName('job-events');
  worker = await stack.worker(taskQueue);
  workerRun = worker.run();
});
after(async () => {
  worker?.shutdown();
  await workerRun;
  await stack?.stop();
});
beforeEach(() => {
  stack.local.emulator.events.setFaults([]);
});

function startRelay(): { relay: HealthLakeEventRelay; stop(): Promise<void> } {
  const relay = createHealthLakeEventRelay({
    sqs: stack.local.sqs,
    queueUrl: stack.local.eventsQueueUrl!,
    client: stack.temporal.env.client,
    waitTimeSeconds: 1,
    retryDelaySeconds: 1,
    logger: silent,
  });
  const abort = new AbortController();
  const running = relay.run(abort.signal);
  return {
    relay,
    async stop() {
      abort.abort();
      await running;
    },
  };
}

async function startImport(label: string, input: FhirImportInput) {
  const workflowId = uniqueName(label);
  const handle = await stack.temporal.env.client.workflow.start(fhirImportWorkflow, {
    taskQueue,
    workflowId,
    args: [input],
  });
  return { workflowId, handle };
}

const jobsOf = (datastoreId: string) =>
  stack.local.emulator.jobs.list().filter((j) => j.kind === 'import' && j.datastoreId === datastoreId);
/**
 * Holds the import's job before IN_PROGRESS: new jobs wait 2 s as SUBMITTED (the emulator's queue
 * delay), and the job found in that time is hung at its first checkpoint until `release()`.
 */
async function holdJob(datastoreId: string, start: () => Promise<void>) {
  stack.local.emulator.updateSettings({ speed: { queueDelayMs: 2_000 } });
  try {
    await start();
    const [job] = await waitFor(
      () => jobsOf(datastoreId),
      (jobs) => jobs.length === 1,
      'the job to be started',
    );
    assert.equal(stack.local.emulator.jobs.hang(job!.jobId), true);
    return {
      jobId: job!.jobId,
      release: () => assert.equal(stack.local.emulator.jobs.release(job!.jobId), true),
    };
  } finally {
    stack.local.emulator.updateSettings({ speed: { queueDelayMs: 20 } });
  }
}

const describeCalls = (): number => stack.local.emulator.counters().DescribeFHIRImportJob?.calls ?? 0;

async function historyCounts(workflowId: string) {
  const history = await stack.temporal.env.client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const count = (type: number) => events.filter((e) => Number(e.eventType) === type).length;
  return {
    total: events.length,
    activitiesScheduled: count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
    cancelRequests: count(EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED),
    markers: count(EventType.EVENT_TYPE_MARKER_RECORDED),
    signals: count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
    timers: count(EventType.EVENT_TYPE_TIMER_STARTED),
  };
}

describe('HealthLake job events wake the import (push + poll)', () => {
  it('an import is detected by its Completed event, with one Describe, long before any poll', async () => {
    const relay = startRelay();
    try {
      const datastoreId = await stack.newDatastore('events-detected');
      const data = await stack.land('events-detected', 3);
      stack.local.emulator.resetCounters();
      let started!: Awaited<ReturnType<typeof startImport>>;
      const held = await holdJob(datastoreId, async () => {
        started = await startImport(
          'events-detected',
          stack.input(datastoreId, 'events-detected', { pollPolicy: SLOW_POLL }),
        );
      });
      const { workflowId, handle } = started;
      // The Submitted event switches the wait to the safety net: the first wait is cancelled.
      const switched = await waitFor(
        () => historyCounts(workflowId),
        (c) => c.activitiesScheduled === 3,
        'the wait to switch to the safety net',
      );
      assert.deepEqual(
        { signals: switched.signals, cancelRequests: switched.cancelRequests },
        { signals: 1, cancelRequests: 1 },
      );
      assert.equal((await handle.query(progressQuery)).jobEvents?.lastStatus, 'SUBMITTED');
      const releasedMs = Date.now();
      held.release();
      const result: FhirImportResult = await handle.result();
      const tookMs = Date.now() - releasedMs;
      assert.ok(tookMs < EVENT_DETECTION_LIMIT_MS, `took ${tookMs} ms; the first poll was due after 120 s`);
      assert.equal(result.status, 'COMPLETED');
      assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
      assert.equal(jobsOf(datastoreId).length, 1);
      // Both waits hand their long delays to the server without a Describe; the Completed event
      // cancels the second and buys exactly one Describe, for the counts and the output.
      assert.equal(result.describeCalls, 1);
      assert.equal(describeCalls(), 1);
      assert.equal(result.progress.jobEvents?.detectedBy, 'event');
      assert.equal(result.progress.jobEvents?.lastStatus, 'COMPLETED');
      assert.equal(result.progress.jobEvents?.received, 3);
      assert.equal(result.progress.jobEvents?.fellBackToPolling, undefined);
      const job = jobsOf(datastoreId)[0]!;
      const lagMs = Date.parse(result.progress.jobEvents.detectedAt!) - job.endTimeMs!;
      assert.ok(lagMs >= 0 && lagMs < EVENT_DETECTION_LIMIT_MS, `detected ${lagMs} ms after the end`);
      // Bounded history: start, the waits (each cancelled by an event: Submitted switches to the
      // safety net, In Progress restarts it from IN_PROGRESS unless Completed came in the same
      // workflow task), one Describe; one patch marker more than an import without events; one
      // signal event per event (Submitted, In Progress, Completed).
      const counts = await historyCounts(workflowId);
      assert.ok([4, 5].includes(counts.activitiesScheduled), `${counts.activitiesScheduled} activities`);
      assert.deepEqual(
        { ...counts, total: undefined, activitiesScheduled: undefined },
        {
          total: undefined,
          activitiesScheduled: undefined,
          cancelRequests: counts.activitiesScheduled - 2,
          markers: 4,
          signals: 3,
          timers: 0,
        },
      );
      // Measured: 50 events with 4 activities, 57 with 5 (each signal in its own workflow task).
      // Bounded by the events HealthLake sends (6 at most per job), not by the job's length.
      assert.ok(counts.total <= 60, `${counts.total} history events`);
    } finally {
      await relay.stop();
    }
  });

  for (const awaitFirstEvent of [false, true]) {
    it(`a first wait sleeping in its attempt ${awaitFirstEvent ? 'is never scheduled with pollPolicy.awaitFirstEventMs: 1 Describe' : 'and cancelled by the first event still makes its Describe: 2'}`, async () => {
      const relay = startRelay();
      try {
        const label = `events-first-${String(awaitFirstEvent)}`;
        const datastoreId = await stack.newDatastore(label);
        await stack.land(label, 3);
        stack.local.emulator.resetCounters();
        let started!: Awaited<ReturnType<typeof startImport>>;
        const held = await holdJob(datastoreId, async () => {
          started = await startImport(
            label,
            stack.input(datastoreId, label, {
              // 4 s is slept inside the first attempt (under half the 10 s attempt timeout).
              pollPolicy: {
                ...SLOW_POLL,
                initialDelayMs: 4_000,
                ...(awaitFirstEvent ? { awaitFirstEventMs: 60_000 } : {}),
              },
            }),
          );
        });
        await waitFor(
          () => started.handle.query(progressQuery),
          (progress) => progress.jobEvents !== undefined,
          'the wait to switch to the safety net',
        );
        // Past the 4 s a cancelled first wait sleeps towards: its Describe has happened, or never will.
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        held.release();
        const result = await started.handle.result();
        assert.equal(result.status, 'COMPLETED');
        assert.equal(result.progress.jobEvents?.detectedBy, 'event');
        assert.equal(result.describeCalls, 1);
        assert.equal(describeCalls(), awaitFirstEvent ? 1 : 2);
        const counts = await historyCounts(started.workflowId);
        assert.equal(counts.timers, awaitFirstEvent ? 1 : 0);
      } finally {
        await relay.stop();
      }
    });
  }

  it('with the end events dropped, the safety-net poll finds the end and polling takes over', async () => {
    const relay = startRelay();
    try {
      stack.local.emulator.events.setFaults([
        { detailTypes: ['Import Job Completed', 'Import Job Completed With Errors'], drop: true },
      ]);
      const datastoreId = await stack.newDatastore('events-dropped');
      await stack.land('events-dropped', 3);
      stack.local.emulator.resetCounters();
      let started!: Awaited<ReturnType<typeof startImport>>;
      const held = await holdJob(datastoreId, async () => {
        started = await startImport(
          'events-dropped',
          stack.input(datastoreId, 'events-dropped', {
            pollPolicy: { ...SLOW_POLL, eventSafetyNetDelayMs: 2_000 },
          }),
        );
      });
      await waitFor(
        () => started.handle.query(progressQuery),
        (progress) => progress.jobEvents !== undefined,
        'the wait to switch to the safety net',
      );
      held.release();
      const result = await started.handle.result();
      assert.equal(result.status, 'COMPLETED');
      assert.equal(jobsOf(datastoreId).length, 1);
      assert.equal(result.progress.jobEvents?.detectedBy, 'poll');
      assert.equal(result.progress.jobEvents?.fellBackToPolling, true);
      assert.equal(result.progress.jobEvents?.lastStatus, 'IN_PROGRESS');
      assert.equal(stack.local.emulator.events.counters().dropped, 1);
    } finally {
      await relay.stop();
    }
  });

  it('with every event dropped (no rule, no relay), the import completes on the normal schedule', async () => {
    stack.local.emulator.events.setFaults([{ drop: true }]);
    const datastoreId = await stack.newDatastore('events-none');
    await stack.land('events-none', 3);
    stack.local.emulator.resetCounters();
    const { handle, workflowId } = await startImport(
      'events-none',
      stack.input(datastoreId, 'events-none', { pollPolicy: { ...SLOW_POLL, initialDelayMs: 1_000 } }),
    );
    const result = await handle.result();
    assert.equal(result.status, 'COMPLETED');
    assert.equal(result.progress.jobEvents, undefined);
    assert.equal(result.describeCalls, 1);
    assert.equal(describeCalls(), 1);
    // No event, no patch marker for job events: the history is the one of an import before them.
    const counts = await historyCounts(workflowId);
    assert.equal(counts.markers, 3);
    assert.equal(counts.signals, 0);
    assert.equal(counts.cancelRequests, 0);
  });

  it('duplicated and out-of-order events change nothing: one job, one Describe', async () => {
    const relay = startRelay();
    try {
      stack.local.emulator.events.setFaults([
        // In Progress arrives after Completed (and after the import has ended).
        { detailTypes: ['Import Job In Progress'], delayMs: 2_000, duplicates: 1 },
        { duplicates: 2 },
      ]);
      const datastoreId = await stack.newDatastore('events-dup');
      await stack.land('events-dup', 3);
      stack.local.emulator.resetCounters();
      let started!: Awaited<ReturnType<typeof startImport>>;
      const held = await holdJob(datastoreId, async () => {
        started = await startImport(
          'events-dup',
          stack.input(datastoreId, 'events-dup', { pollPolicy: SLOW_POLL }),
        );
      });
      const { handle, workflowId } = started;
      // Three copies of Submitted: the first switches the wait, the others change nothing.
      await waitFor(
        () => historyCounts(workflowId),
        (c) => c.signals === 3,
        'the three Submitted copies to arrive',
      );
      assert.equal((await historyCounts(workflowId)).activitiesScheduled, 3);
      held.release();
      const result = await handle.result();
      assert.equal(result.status, 'COMPLETED');
      assert.equal(jobsOf(datastoreId).length, 1);
      assert.equal(result.describeCalls, 1);
      assert.equal(result.progress.jobEvents?.detectedBy, 'event');
      assert.equal(result.progress.jobEvents?.lastStatus, 'COMPLETED');
      await stack.local.emulator.events.flushed();
      // The late In Progress copies (and Completed copies after the end) find a closed import:
      // deleted, not signalled.
      await waitFor(
        () => relay.relay.stats()['import-closed'],
        (closed) => closed >= 2,
        'the late events to be dropped as for a closed import',
      );
      assert.equal(describeCalls(), 1);
      const counts = await historyCounts(workflowId);
      // Same commands as with single events: start, the waits (each cancelled), one Describe.
      assert.ok([4, 5].includes(counts.activitiesScheduled), `${counts.activitiesScheduled} activities`);
      assert.equal(counts.cancelRequests, counts.activitiesScheduled - 2);
      assert.equal(counts.markers, 4);
    } finally {
      await relay.stop();
    }
  });

  it('a relay killed mid-run and started again: the event waits in the queue, nothing is lost', async () => {
    const datastoreId = await stack.newDatastore('events-relay-kill');
    await stack.land('events-relay-kill', 3);
    stack.local.emulator.resetCounters();
    const relayArgs = [
      '--import',
      'tsx',
      require.resolve('../cli/main.ts'),
      'relay',
      '--queue-url',
      stack.local.eventsQueueUrl!,
      '--address',
      stack.temporal.env.connection.options.address,
      '--wait-time-seconds',
      '1',
    ];
    const spawnRelay = (): ChildProcess & { stderrText: () => string } => {
      let stderr = '';
      const child = spawn(process.execPath, relayArgs, {
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return Object.assign(child, { stderrText: () => stderr });
    };
    const first = spawnRelay();
    let second: ReturnType<typeof spawnRelay> | undefined;
    try {
      let started!: Awaited<ReturnType<typeof startImport>>;
      const held = await holdJob(datastoreId, async () => {
        started = await startImport(
          'events-relay-kill',
          stack.input(datastoreId, 'events-relay-kill', { pollPolicy: SLOW_POLL }),
        );
      });
      const { handle, workflowId } = started;
      // The relay delivers the Submitted event: the import is in touch with events.
      await waitFor(
        () => historyCounts(workflowId),
        (counts) => counts.signals === 1,
        'the Submitted event to reach the import',
        { limitMs: 120_000 },
      );
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      // The job runs and ends while no relay runs: its events wait in the queue.
      held.release();
      await waitFor(
        () => jobsOf(datastoreId)[0]!.status,
        (status) => status === 'COMPLETED',
        'the job to end',
      );
      await stack.local.emulator.events.flushed();
      const { status } = await handle.describe();
      assert.equal(status.name, 'RUNNING', 'without a relay the end waits for the 2-minute poll');
      second = spawnRelay();
      const result = await handle.result();
      assert.equal(result.status, 'COMPLETED');
      assert.equal(result.progress.jobEvents?.detectedBy, 'event');
      assert.equal(jobsOf(datastoreId).length, 1);
      assert.equal(result.describeCalls, 1);
      assert.equal(describeCalls(), 1);
    } finally {
      first.kill('SIGKILL');
      second?.kill('SIGTERM');
      if (second && second.exitCode === null) await new Promise((resolve) => second!.once('exit', resolve));
    }
    assert.equal(second.exitCode, 0, second.stderrText());
    assert.match(second.stderrText(), /relay: stopped; \d+ messages, [1-9]\d* signalled/);
  });

  it("the In Progress event's time starts the pace clock of the safety-net wait after it", async () => {
    // No relay, every emulator event dropped: the events are signalled by hand, with a known time.
    stack.local.emulator.events.setFaults([{ drop: true }]);
    const datastoreId = await stack.newDatastore('events-pace');
    await stack.land('events-pace', 3);
    stack.local.emulator.resetCounters();
    let started!: Awaited<ReturnType<typeof startImport>>;
    const held = await holdJob(datastoreId, async () => {
      started = await startImport(
        'events-pace',
        stack.input(datastoreId, 'events-pace', { pollPolicy: SLOW_POLL }),
      );
    });
    const { handle, workflowId } = started;
    const event = (status: 'IN_PROGRESS' | 'COMPLETED', time: string) => ({
      datastoreId,
      jobId: held.jobId,
      status,
      eventId: `pace-${status}`,
      time,
    });
    await waitFor(
      () => historyCounts(workflowId),
      (counts) => counts.activitiesScheduled === 2,
      'the first wait (start + wait)',
    );
    const inProgressAt = '2026-12-03T10:00:00.000Z';
    await handle.signal(healthLakeJobEventSignal, event('IN_PROGRESS', inProgressAt));
    // The wait scheduled on the safety net for IN_PROGRESS (no Describe saw IN_PROGRESS yet).
    const waitArgs = async () => {
      const history = await handle.fetchHistory();
      return (history.events ?? [])
        .map((e) => e.activityTaskScheduledEventAttributes)
        .filter((a) => a?.activityType?.name === 'awaitImportJobChange')
        .map(
          (a) =>
            JSON.parse(Buffer.from(a!.input!.payloads![0]!.data!).toString('utf8')) as {
              knownStatus: string;
              inProgressSince?: string;
            },
        );
    };
    const waits = await waitFor(
      waitArgs,
      (args) => args.some((a) => a.knownStatus === 'IN_PROGRESS'),
      'the safety-net wait for IN_PROGRESS',
    );
    assert.deepEqual(
      waits.map((a) => [a.knownStatus, a.inProgressSince]),
      [
        ['SUBMITTED', undefined],
        ['IN_PROGRESS', inProgressAt],
      ],
    );
    assert.equal(describeCalls(), 0);
    held.release();
    await waitFor(
      () => jobsOf(datastoreId)[0]!.status,
      (status) => status === 'COMPLETED',
      'the job to end',
    );
    await handle.signal(healthLakeJobEventSignal, event('COMPLETED', new Date().toISOString()));
    const result = await handle.result();
    assert.equal(result.status, 'COMPLETED');
    assert.equal(result.progress.jobEvents?.detectedBy, 'event');
    assert.equal(result.describeCalls, 1);
  });

  it('an attached import with pollPolicy.awaitFirstEventMs waits for the first event: only the attach Describe before it', async () => {
    stack.local.emulator.events.setFaults([{ drop: true }]);
    const datastoreId = await stack.newDatastore('events-attach');
    await stack.land('events-attach', 3);
    let existingJobId!: string;
    const held = await holdJob(datastoreId, async () => {
      existingJobId = await stack.startJobDirectly(datastoreId, 'events-attach');
    });
    stack.local.emulator.resetCounters();
    const { handle, workflowId } = await startImport(
      'events-attach',
      stack.input(datastoreId, 'events-attach', {
        existingJobId,
        pollPolicy: { ...SLOW_POLL, awaitFirstEventMs: 120_000 },
      }),
    );
    // Either the first-event timer (this code) or a first wait activity (older code) comes next.
    const counts = await waitFor(
      () => historyCounts(workflowId),
      (c) => c.timers === 1 || c.activitiesScheduled === 2,
      'the first wait after the attach',
    );
    assert.deepEqual([counts.timers, counts.activitiesScheduled], [1, 1]);
    const event = (status: 'IN_PROGRESS' | 'COMPLETED') => ({
      datastoreId,
      jobId: existingJobId,
      status,
      eventId: `attach-${status}`,
      time: new Date().toISOString(),
    });
    await handle.signal(healthLakeJobEventSignal, event('IN_PROGRESS'));
    await waitFor(
      () => historyCounts(workflowId),
      (c) => c.activitiesScheduled === 2,
      'the safety-net wait',
    );
    held.release();
    await waitFor(
      () => jobsOf(datastoreId)[0]!.status,
      (status) => status === 'COMPLETED',
      'the job to end',
    );
    await handle.signal(healthLakeJobEventSignal, event('COMPLETED'));
    const result = await handle.result();
    assert.equal(result.status, 'COMPLETED');
    assert.equal(result.progress.jobEvents?.detectedBy, 'event');
    // The attach Describe and the one the Completed event buys.
    assert.equal(result.describeCalls, 2);
    assert.equal(describeCalls(), 2);
    const closed = await historyCounts(workflowId);
    assert.deepEqual([closed.timers, closed.activitiesScheduled, closed.cancelRequests], [1, 3, 1]);
  });
});
