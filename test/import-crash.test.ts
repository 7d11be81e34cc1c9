// A worker process (worker/main.ts, configured from env vars) is killed with SIGKILL while an import
// waits; a new worker picks the wait up from the server and the import completes with exactly one
// HealthLake job.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { readImportProgress, startFhirImport } from '../client';
import { startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import { waitFor } from './helpers/wait-for';

let stack: ImportTestStack;
before(async () => {
  stack = await startImportTestStack();
});
after(async () => {
  await stack?.stop();
});

/** Starts `worker/main.ts` in its own process and resolves once it says it is ready. */
async function startWorkerProcess(taskQueue: string): Promise<ChildProcess> {
  const { AWS_ACCESS_KEY_ID: _key, AWS_SECRET_ACCESS_KEY: _secret, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', require.resolve('../worker/main')], {
    env: {
      ...env,
      TEMPORAL_ADDRESS: stack.temporal.server!.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      HEALTHLAKE_ENDPOINT: stack.local.emulator.url,
      AWS_REGION: stack.local.emulator.region,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  for (let i = 0; i < 1_200 && !stderr.includes('healthlake worker ready'); i++) {
    if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}: ${stderr}`);
    await sleep(50);
  }
  assert.match(
    stderr,
    new RegExp(`healthlake worker ready: .* task queues ${taskQueue}, ${taskQueue}-healthlake-api`),
  );
  return child;
}

describe('worker killed mid-wait', () => {
  it('a new worker finishes the import; the emulator holds exactly one job for it', async () => {
    const datastoreId = await stack.newDatastore('crash');
    const data = await stack.land('crash', 2);
    const taskQueue = uniqueName('crash');
    stack.local.emulator.updateSettings({ speed: { resourcesPerSecond: 5 } });
    const child = await startWorkerProcess(taskQueue);
    try {
      const handle = await startFhirImport(stack.temporal.env.client, {
        callerKey: taskQueue,
        taskQueue,
        // Production-shaped waits: every wait goes back to the server as a retry.
        input: stack.input(datastoreId, 'crash', {
          pollPolicy: {
            initialDelayMs: 200,
            minDelayMs: 200,
            maxDelayMs: 400,
            inAttemptWaitMaxMs: 0,
            attemptTimeoutMs: 2_000,
          },
        }),
      });
      // Mid-wait: the job runs (held there from the moment it is IN_PROGRESS, so it cannot finish
      // before the kill), and the worker process has heartbeated its progress.
      const running = await waitFor(
        () => stack.local.emulator.jobs.list().find((job) => job.datastoreId === datastoreId),
        (job) => job?.status === 'IN_PROGRESS',
        'the job to go IN_PROGRESS',
        { stepMs: 10 },
      );
      const jobId = running!.jobId;
      assert.equal(stack.local.emulator.jobs.hang(jobId), true);
      await waitFor(
        () => readImportProgress(stack.temporal.env.client, handle.workflowId),
        (live) => live.source === 'heartbeat' && live.progress.status === 'IN_PROGRESS',
        'the first worker to heartbeat IN_PROGRESS',
      );
      child.kill('SIGKILL');
      await once(child, 'exit');
      assert.equal(child.signalCode, 'SIGKILL');

      const worker = await stack.worker(taskQueue);
      const result = await worker.runUntil(
        (async () => {
          await sleep(500);
          assert.equal(stack.local.emulator.jobs.release(jobId), true);
          stack.local.emulator.updateSettings({ speed: { resourcesPerSecond: null } });
          return handle.result();
        })(),
      );
      assert.equal(result.status, 'COMPLETED');
      assert.equal(result.jobId, jobId);
      assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
      const jobs = stack.local.emulator.jobs.list().filter((job) => job.datastoreId === datastoreId);
      assert.deepEqual(
        jobs.map((job) => [job.jobId, job.status]),
        [[jobId, 'COMPLETED']],
      );
    } finally {
      stack.local.emulator.updateSettings({ speed: { resourcesPerSecond: null } });
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

describe('worker killed inside the start', () => {
  it('after HealthLake committed the job but before it answered: the retry finds it, one job', async () => {
    const datastoreId = await stack.newDatastore('crash-start');
    const data = await stack.land('crash-start', 2);
    const taskQueue = uniqueName('crash-start');
    stack.local.emulator.resetCounters();
    // The job is submitted at once, the answer comes 8 s later: the worker dies in between.
    stack.local.emulator.faults.set('StartFHIRImportJob', { responseLatencyMs: 8_000 });
    const child = await startWorkerProcess(taskQueue);
    try {
      const handle = await startFhirImport(stack.temporal.env.client, {
        callerKey: taskQueue,
        taskQueue,
        input: stack.input(datastoreId, 'crash-start', {
          pollPolicy: { initialDelayMs: 200, minDelayMs: 200, maxDelayMs: 400, attemptTimeoutMs: 2_000 },
        }),
      });
      const [submitted] = await waitFor(
        () => stack.local.emulator.jobs.list().filter((job) => job.datastoreId === datastoreId),
        (jobs) => jobs.length === 1,
        'HealthLake to commit the job',
        { stepMs: 10 },
      );
      child.kill('SIGKILL');
      await once(child, 'exit');
      assert.equal(child.signalCode, 'SIGKILL');
      stack.local.emulator.faults.clear();

      const worker = await stack.worker(taskQueue);
      const result = await worker.runUntil(handle.result());
      assert.equal(result.jobId, submitted!.jobId);
      assert.equal(result.status, 'COMPLETED');
      assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
      const jobs = stack.local.emulator.jobs.list().filter((job) => job.datastoreId === datastoreId);
      assert.deepEqual(
        jobs.map((job) => [job.jobId, job.status]),
        [[submitted!.jobId, 'COMPLETED']],
      );
      // The retried start found the job by name and did not call StartFHIRImportJob again.
      assert.equal(stack.local.emulator.counters().StartFHIRImportJob?.calls, 1);
    } finally {
      stack.local.emulator.faults.clear();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
