// readImportProgress for a running import whose workers are gone: it answers from the last state
// the server holds (the wait's heartbeat, or the workflow's history), with the counts the emulator
// reported, never zeros. Real dev server, emulator over HTTP, real workers shut down mid-wait.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readImportProgress, startFhirImport } from '../client';
import type { PollPolicy } from '../workflows/types';
import { FAST_POLL, startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import { waitFor } from './helpers/wait-for';

let stack: ImportTestStack;
before(async () => {
  stack = await startImportTestStack();
});
after(async () => {
  await stack?.stop();
});

/**
 * A worker and an import into a new data store whose job is held mid-run, once the wait's
 * heartbeat carries the held counts (what the emulator's Describe reports).
 */
async function heldImport(label: string, pollPolicy: Partial<PollPolicy>) {
  const datastoreId = await stack.newDatastore(uniqueName(label));
  const prefix = uniqueName(`${label}-data`);
  await stack.land(prefix, 30);
  const taskQueue = uniqueName(label);
  const worker = await stack.worker(taskQueue);
  const running = worker.run();
  const held = await stack.holdJobMidRun(datastoreId, () =>
    startFhirImport(stack.temporal.env.client, {
      callerKey: taskQueue,
      taskQueue,
      input: stack.input(datastoreId, prefix, { pollPolicy: { ...FAST_POLL, ...pollPolicy } }),
    }),
  );
  await waitFor(
    () => readImportProgress(stack.temporal.env.client, held.started.workflowId),
    (live) => live.progress.counts.resourcesImported === held.report.TotalNumberOfResourcesImported,
    'the heartbeat to carry the held counts',
  );
  return { ...held, handle: held.started, worker, running };
}

describe('readImportProgress with no worker', () => {
  it('a held import whose worker is gone shows the last heartbeat counts', async () => {
    const { handle, jobId, report, worker, running } = await heldImport('no-worker', {
      inAttemptWaitMaxMs: 0,
    });
    try {
      worker.shutdown();
      await running;
      const live = await readImportProgress(stack.temporal.env.client, handle.workflowId);
      assert.equal(live.source, 'heartbeat');
      assert.equal(live.progress.jobId, jobId);
      assert.equal(live.progress.status, 'IN_PROGRESS');
      assert.equal(live.progress.counts.resourcesImported, report.TotalNumberOfResourcesImported);
      assert.equal(live.progress.counts.resourcesScanned, report.TotalNumberOfResourcesScanned);
      assert.equal(live.progress.counts.scannedFiles, report.TotalNumberOfScannedFiles);
    } finally {
      stack.local.emulator.jobs.release(jobId);
      await handle.terminate('test over');
    }
  });

  it('an import whose wait returned its counts just before the workers went shows those counts', async () => {
    // The wait returns its counts to the workflow 0.5 s, 2.5 s, 10.5 s... into IN_PROGRESS.
    const { handle, jobId, report, worker, running } = await heldImport('no-worker-wft', {
      maxProgressMilestones: 5,
      progressIntervalMs: 500,
      reportRefreshMs: 0,
    });
    try {
      // The workflow worker goes first: the wait's next return of the held counts completes the
      // activity, and no worker runs the workflow task that would schedule the next wait.
      worker.main.shutdown();
      await waitFor(
        () => handle.describe(),
        (d) => (d.raw.pendingActivities ?? []).length === 0,
        'the wait to return its counts with no workflow worker',
      );
      worker.shutdown();
      await running;
      const live = await readImportProgress(stack.temporal.env.client, handle.workflowId);
      assert.equal(live.source, 'last-known');
      assert.equal(live.progress.jobId, jobId);
      assert.equal(live.progress.status, 'IN_PROGRESS');
      assert.equal(live.progress.counts.resourcesImported, report.TotalNumberOfResourcesImported);
      assert.equal(live.progress.counts.resourcesScanned, report.TotalNumberOfResourcesScanned);
      assert.equal(live.progress.counts.scannedFiles, report.TotalNumberOfScannedFiles);
      assert.ok(live.progress.describeCalls > 0, `describeCalls ${live.progress.describeCalls}`);
    } finally {
      stack.local.emulator.jobs.release(jobId);
      await handle.terminate('test over');
    }
  });
});
