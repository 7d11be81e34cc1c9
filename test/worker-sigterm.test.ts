// SIGTERM to worker/main.ts while an import waits: the process drains and exits 0 within 10 s, and
// the import completes on the next worker process with exactly one HealthLake job.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFhirImport } from '../client';
import { startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import { waitFor } from './helpers/wait-for';
import { nonEmptyLines, WorkerProcess } from './helpers/worker-process';

const SIGNAL_EXIT_LIMIT_MS = 10_000;

let stack: ImportTestStack;
before(async () => {
  stack = await startImportTestStack();
});
after(async () => {
  await stack?.stop();
});

describe('worker/main.ts SIGTERM mid-import', () => {
  it('exits 0 within 10 s; the next worker process completes the import, one job', async () => {
    const datastoreId = await stack.newDatastore('sigterm');
    const data = await stack.land('sigterm', 2);
    const taskQueue = uniqueName('sigterm');
    const env = stack.workerProcessEnv(taskQueue);
    const first = new WorkerProcess(env);
    let second: WorkerProcess | undefined;
    try {
      await first.line('healthlake worker ready:');
      const handle = await startFhirImport(stack.temporal.env.client, {
        callerKey: taskQueue,
        taskQueue,
        input: stack.input(datastoreId, 'sigterm'),
      });
      const job = await waitFor(
        () => stack.local.emulator.jobs.list().find((j) => j.datastoreId === datastoreId),
        (j) => j?.status === 'IN_PROGRESS',
        'the job to go IN_PROGRESS',
        { stepMs: 10 },
      );
      assert.equal(stack.local.emulator.jobs.hang(job!.jobId), true);
      const signalledAt = performance.now();
      first.child.kill('SIGTERM');
      const exit = await first.exit(SIGNAL_EXIT_LIMIT_MS + 5_000);
      const elapsedMs = performance.now() - signalledAt;
      assert.equal(exit.code, 0, exit.stderr);
      assert.equal(exit.signal, null);
      assert.ok(elapsedMs < SIGNAL_EXIT_LIMIT_MS, `exited ${elapsedMs.toFixed(0)} ms after SIGTERM`);
      assert.equal(
        nonEmptyLines(exit.stderr).at(-1),
        'healthlake worker: SIGTERM: draining, exiting within 10 s',
      );

      second = new WorkerProcess(env);
      await second.line('healthlake worker ready:');
      assert.equal(stack.local.emulator.jobs.release(job!.jobId), true);
      const result = await handle.result();
      assert.equal(result.status, 'COMPLETED');
      assert.equal(result.jobId, job!.jobId);
      assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
      assert.deepEqual(
        stack.local.emulator.jobs
          .list()
          .filter((j) => j.datastoreId === datastoreId)
          .map((j) => [j.jobId, j.status]),
        [[job!.jobId, 'COMPLETED']],
      );
    } finally {
      if (first.child.exitCode === null) first.child.kill('SIGKILL');
      if (second) assert.equal((await second.stop()).code, 0);
    }
  });
});
