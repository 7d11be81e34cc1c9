// Ended jobs wake their imports (issue 9: detection at scale). With `coalesceImportPolls`, a List
// made for ANY wait on a data store shows every job of that store; when it shows a job ended whose
// own wait is handed back to the server for minutes, the import is told at once with
// `healthLakeJobEventSignal` and describes once. Real dev server, real worker (coalescing on), the
// emulator over HTTP through the real SDK client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HealthLakeWorker } from '../worker';
import { fhirImportWorkflow } from '../workflows';
import type { PollPolicy } from '../workflows/types';
import { startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import { waitFor } from './helpers/wait-for';

/** The first Describe at once (so the import's owner is known), then nothing for 2 minutes. */
const SLOW_AFTER_FIRST: Partial<PollPolicy> = {
  initialDelayMs: 0,
  minDelayMs: 120_000,
  maxDelayMs: 120_000,
  queuedDelayMs: 120_000,
  attemptTimeoutMs: 10_000,
  jitter: 0,
};
/** A neighbour polling every 200 ms: its Lists are the ones that see the other job end. */
const FAST: Partial<PollPolicy> = {
  initialDelayMs: 0,
  minDelayMs: 200,
  maxDelayMs: 200,
  queuedDelayMs: 200,
  attemptTimeoutMs: 10_000,
  jitter: 0,
};
/** Far less than the slow import's next poll (120 s): a hang guard, not a timing assertion. */
const WAKE_LIMIT_MS = 60_000;

let stack: ImportTestStack;
let worker: HealthLakeWorker;
let workerRun: Promise<void>;
let taskQueue: string;

before(async () => {
  stack = await startImportTestStack();
  taskQueue = uniqueName('coalesce-wake');
  worker = await stack.worker(taskQueue, { coalesceImportPolls: { windowMs: 20, maxAgeMs: 100 } });
  workerRun = worker.run();
});
after(async () => {
  worker?.shutdown();
  await workerRun;
  await stack?.stop();
});

const jobsOf = (datastoreId: string) =>
  stack.local.emulator.jobs.list().filter((j) => j.kind === 'import' && j.datastoreId === datastoreId);

describe('List coalescing: an ended job wakes its import', () => {
  it("a neighbour's List sees the job end while its wait is handed back: one signal, one Describe", async () => {
    const datastoreId = await stack.newDatastore('coalesce-wake');
    const data = await stack.land('coalesce-wake', 2);
    const coalescer = worker.listCoalescer!;
    const start = (label: string, pollPolicy: Partial<PollPolicy>) => {
      const workflowId = uniqueName(label);
      return stack.temporal.env.client.workflow.start(fhirImportWorkflow, {
        taskQueue,
        workflowId,
        args: [stack.input(datastoreId, 'coalesce-wake', { pollPolicy })],
      });
    };

    // The slow import's job is held; its first poll (a List) makes the coalescer remember it.
    const slow = await start('coalesce-slow', SLOW_AFTER_FIRST);
    const [slowJob] = await waitFor(
      () => jobsOf(datastoreId),
      (jobs) => jobs.length === 1,
      'the slow import job',
      { stepMs: 5 },
    );
    assert.equal(stack.local.emulator.jobs.hang(slowJob!.jobId), true);
    await waitFor(
      () => coalescer.stats.answered,
      (answered) => answered >= 1,
      "the slow import's first poll",
    );

    // The neighbour's job waits QUEUED behind it (held there too), polling every 200 ms.
    const fast = await start('coalesce-fast', FAST);
    const fastJob = await waitFor(
      () => jobsOf(datastoreId).find((j) => j.jobId !== slowJob!.jobId),
      (job) => job !== undefined,
      "the neighbour's job",
      { stepMs: 5 },
    );
    assert.equal(stack.local.emulator.jobs.hang(fastJob!.jobId), true);
    const listsBefore = coalescer.stats.listCalls;
    await waitFor(
      () => coalescer.stats.listCalls,
      (lists) => lists >= listsBefore + 2,
      "the neighbour's Lists",
    );

    stack.local.emulator.resetCounters();
    const signalledBefore = coalescer.stats.endsSignalled;
    assert.equal(stack.local.emulator.jobs.release(slowJob!.jobId), true);
    const result = await Promise.race([
      slow.result(),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the slow import was not woken')), WAKE_LIMIT_MS).unref(),
      ),
    ]);
    assert.equal(result.status, 'COMPLETED');
    assert.equal(result.jobId, slowJob!.jobId);
    assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
    assert.equal(result.progress.jobEvents?.detectedBy, 'event');
    assert.equal(result.progress.jobEvents?.received, 1);
    assert.equal(result.progress.jobEvents?.lastStatus, 'COMPLETED');
    assert.equal(coalescer.stats.endsSignalled - signalledBefore, 1);
    assert.equal(coalescer.stats.endSignalsFailed, 0);
    assert.equal(coalescer.stats.endSignalsToClosed, 0);
    // The one Describe the wake bought; every poll in between was a List.
    assert.equal(stack.local.emulator.counters().DescribeFHIRImportJob?.calls, 1);

    assert.equal(stack.local.emulator.jobs.release(fastJob!.jobId), true);
    const neighbour = await fast.result();
    assert.equal(neighbour.status, 'COMPLETED');
    assert.deepEqual(
      jobsOf(datastoreId).map((j) => j.status),
      ['COMPLETED', 'COMPLETED'],
    );
  });
});
