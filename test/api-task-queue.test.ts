// The HealthLake API task queue has one source of truth (the worker running the import names it) and
// a queue nobody polls fails typed instead of hanging: real dev server, real worker pair, emulator.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { startFhirImport } from '../client';
import type { ApiTaskQueueNotPolledDetails } from '../workflows/types';
import { startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import { waitFor } from './helpers/wait-for';

let stack: ImportTestStack;

before(async () => {
  stack = await startImportTestStack();
});
after(async () => {
  await stack?.stop();
});

/** Before the fix these imports hung forever; the limit turns a hang into a failed assertion. */
const HANG_LIMIT_MS = 60_000;

describe('HealthLake API task queue', () => {
  it('a worker with a custom apiTaskQueue runs an import started without input.apiTaskQueue', async () => {
    const taskQueue = uniqueName('paired');
    const apiTaskQueue = uniqueName('shared-account-api');
    const datastoreId = await stack.newDatastore('paired');
    await stack.land('paired', 1);
    const worker = await stack.worker(taskQueue, { apiTaskQueue });
    const outcome = await worker.runUntil(
      (async () => {
        const handle = await startFhirImport(stack.temporal.env.client, {
          callerKey: taskQueue,
          taskQueue,
          input: stack.input(datastoreId, 'paired'),
        });
        await waitFor(
          async () => (await handle.describe()).status.name,
          (status) => status !== 'RUNNING',
          `import ${handle.workflowId} to close (API activities on "${apiTaskQueue}")`,
          { limitMs: HANG_LIMIT_MS },
        );
        return { result: await handle.result(), history: await handle.fetchHistory() };
      })(),
    );
    assert.equal(outcome.result.status, 'COMPLETED');
    // The HealthLake activities went to the worker's API queue, not `<taskQueue>-healthlake-api`.
    const queues = new Set(
      (outcome.history.events ?? []).flatMap((e) =>
        e.activityTaskScheduledEventAttributes?.taskQueue?.name
          ? [e.activityTaskScheduledEventAttributes.taskQueue.name]
          : [],
      ),
    );
    assert.deepEqual([...queues], [apiTaskQueue]);
    const markers = (outcome.history.events ?? []).flatMap((e) =>
      e.markerRecordedEventAttributes ? [e.markerRecordedEventAttributes.markerName] : [],
    );
    // Two patch markers (this one and the identity-tagged job name) and the local activity naming the queue.
    assert.deepEqual(markers.sort(), ['core_local_activity', 'core_patch', 'core_patch']);
    await Worker.runReplayHistory({ workflowBundle: stack.bundle }, outcome.history);
  });

  it('input.apiTaskQueue with a typo: warning in the UI, then HealthLakeApiTaskQueueNotPolled naming the queue', async () => {
    const taskQueue = uniqueName('typo');
    const typo = `${taskQueue}-healthlake-apl`;
    const datastoreId = await stack.newDatastore('typo');
    const failAfterMs = 3_000;
    const worker = await stack.worker(taskQueue, {
      apiTaskQueueUnpolledFailAfterMs: failAfterMs,
      apiTaskQueueCheckIntervalMs: 500,
    });
    const startedAt = Date.now();
    const { failure, warning, history } = await worker.runUntil(
      (async () => {
        const handle = await startFhirImport(stack.temporal.env.client, {
          callerKey: taskQueue,
          taskQueue,
          input: stack.input(datastoreId, 'typo', { apiTaskQueue: typo }),
        });
        const details = await waitFor(
          async () =>
            (await handle.query<{ currentDetails?: string | null }>('__temporal_workflow_metadata'))
              .currentDetails ?? '',
          (text) => text.startsWith('**Warning:**'),
          'the unpolled-queue warning in the current details',
          { limitMs: HANG_LIMIT_MS },
        );
        const err = await handle.result().then(
          () => undefined,
          (e: unknown) => e,
        );
        return { failure: err, warning: details, history: await handle.fetchHistory() };
      })(),
    );
    const elapsedMs = Date.now() - startedAt;
    assert.ok(
      warning.startsWith(`**Warning:** no worker polls HealthLake API task queue "${typo}" (for `),
      warning,
    );
    assert.ok(warning.includes('the import fails HealthLakeApiTaskQueueNotPolled after 3 s'), warning);
    assert.ok(failure instanceof WorkflowFailedError, `got ${String(failure)}`);
    assert.ok(failure.cause instanceof ApplicationFailure);
    assert.equal(failure.cause.type, 'HealthLakeApiTaskQueueNotPolled');
    assert.equal(failure.cause.nonRetryable, true);
    assert.match(
      failure.cause.message,
      new RegExp(`^no worker polled HealthLake API task queue "${typo}" for \\d+ s \\(limit 3 s\\): `),
    );
    const details = failure.cause.details?.[0] as ApiTaskQueueNotPolledDetails;
    assert.equal(details.apiTaskQueue, typo);
    assert.ok(details.unpolledForMs >= failAfterMs, String(details.unpolledForMs));
    // Bounded: the failure came after the limit, not after a hang (generous for a loaded machine).
    assert.ok(elapsedMs < failAfterMs + 30_000, `failed after ${elapsedMs} ms`);
    // No job was started: the start activity never ran.
    assert.equal(stack.local.emulator.jobs.list().filter((job) => job.datastoreId === datastoreId).length, 0);
    await Worker.runReplayHistory({ workflowBundle: stack.bundle }, history);
  });

  it('imports queued behind the rate limit longer than the bound are not failed (the queue has pollers)', async () => {
    const taskQueue = uniqueName('throttled');
    const datastoreId = await stack.newDatastore('throttled');
    await stack.land('throttled', 1);
    // One API call per 2 s: the import spends far longer than the 500 ms bound waiting for its turns.
    const worker = await stack.worker(taskQueue, {
      apiActivitiesPerSecond: 0.5,
      apiTaskQueueUnpolledFailAfterMs: 500,
      apiTaskQueueCheckIntervalMs: 100,
    });
    const startedAt = Date.now();
    const { result, history } = await worker.runUntil(
      (async () => {
        const handle = await startFhirImport(stack.temporal.env.client, {
          callerKey: taskQueue,
          taskQueue,
          input: stack.input(datastoreId, 'throttled'),
        });
        return { result: await handle.result(), history: await handle.fetchHistory() };
      })(),
    );
    const elapsedMs = Date.now() - startedAt;
    assert.equal(result.status, 'COMPLETED');
    assert.ok(elapsedMs > 2_000, `took ${elapsedMs} ms: the rate limit did not hold the import back`);
    // Pollers were seen at the start, so no poller check ran: no timer.
    const events = history.events ?? [];
    assert.equal(events.filter((e) => e.timerStartedEventAttributes).length, 0);
    // Two patch markers (API queue, job name) and the one local activity: no re-check was needed.
    assert.equal(events.filter((e) => e.markerRecordedEventAttributes).length, 3);
  });
});
