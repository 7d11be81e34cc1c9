// An upgrade on real parts: imports started by a worker running the released workflow code (commit
// BASE_COMMIT, taken from git) and held mid-wait; that worker is shut down and a worker running the
// current code on the same task queue finishes them, deadline included, with exact counts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundle } from '@temporalio/worker';
import type * as importActivities from '../activities/import';
import { startFhirImport } from '../client';
import { HEALTHLAKE_API_TASK_QUEUE_SUFFIX, progressQuery, type FhirImportResult } from '../workflows/types';
import { startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import { waitFor } from './helpers/wait-for';

/**
 * The released workflow code running workflows must survive an upgrade from (issue 8's base).
 * `UPGRADE_FROM_COMMIT=<commit>` tries another (e.g. 2fdb9cb, before the deadline timer moved).
 */
const BASE_COMMIT = process.env.UPGRADE_FROM_COMMIT ?? '18a8820';
const ROOT = join(__dirname, '..');
/** How long the current code may take to finish an import after the switch (a hang guard). */
const FINISH_LIMIT_MS = 45_000;

/**
 * Extracts `workflows/` and `activities/` at `commit` under `.local/` (inside the repository, so
 * the old code resolves this checkout's node_modules). Fails, never skips, when the commit is missing.
 */
function extractReleasedCode(commit: string): string {
  try {
    execFileSync('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    throw new Error(
      `commit ${commit} (the released workflow code this test upgrades from) is not in this clone; ` +
        'the upgrade test needs the repository history: a shallow clone lacks it (run `git fetch --unshallow`)',
    );
  }
  const dir = join(ROOT, '.local', `upgrade-${commit}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const archive = join(dir, 'released.tar');
  execFileSync('git', ['archive', '--format=tar', '-o', archive, commit, 'workflows', 'activities'], {
    cwd: ROOT,
  });
  execFileSync('tar', ['-xf', archive, '-C', dir]);
  return dir;
}

/** Workflow task failures in the history (a nondeterminism error shows as one, then retries forever). */
async function workflowTaskFailures(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.workflowTaskFailedEventAttributes)
    .map((e) => e.workflowTaskFailedEventAttributes?.failure?.message ?? '(no message)');
}

/** The result, or a failure naming the workflow task failure that keeps it from finishing. */
async function finishedOrStuck(handle: WorkflowHandle): Promise<FhirImportResult> {
  const result = handle.result() as Promise<FhirImportResult>;
  const deadline = Date.now() + FINISH_LIMIT_MS;
  for (;;) {
    const settled = await Promise.race([result.then(() => true), sleep(250).then(() => false)]);
    if (settled) return result;
    const failures = await workflowTaskFailures(handle);
    if (failures.length > 0) {
      throw new Error(`${handle.workflowId} is stuck after the upgrade: ${failures.join('; ')}`);
    }
    if (Date.now() > deadline) throw new Error(`${handle.workflowId} did not finish after the upgrade`);
  }
}

/** Build ids of the workers that completed each workflow task, in order. */
async function workflowTaskBuildIds(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const buildId = e.workflowTaskCompletedEventAttributes?.workerVersion?.buildId;
    return buildId ? [buildId] : [];
  });
}

describe(`upgrade from the workflow code at ${BASE_COMMIT}`, () => {
  let stack: ImportTestStack;
  let releasedDir: string;
  let releasedBundle: WorkflowBundle;

  before(async () => {
    releasedDir = extractReleasedCode(BASE_COMMIT);
    [stack, releasedBundle] = await Promise.all([
      startImportTestStack(),
      bundleWorkflowCode({
        workflowsPath: join(releasedDir, 'workflows'),
        logger: new DefaultLogger('WARN'),
      }),
    ]);
  });
  after(async () => {
    await stack?.stop();
    if (releasedDir) rmSync(releasedDir, { recursive: true, force: true });
  });

  it('imports waiting under the released code (one with a deadline) finish under the current code', async () => {
    const taskQueue = uniqueName('upgrade');
    const client = stack.temporal.env.client;
    const [withDeadline, without] = [
      { label: 'deadline', deadline: new Date(Date.now() + 3_600_000).toISOString() },
      { label: 'no-deadline', deadline: undefined },
    ];
    const imports = [];
    for (const spec of [withDeadline, without]) {
      const prefix = `upgrade-${spec.label}`;
      const datastoreId = await stack.newDatastore(prefix);
      const data = await stack.land(prefix, 2);
      imports.push({ ...spec, prefix, datastoreId, data });
    }

    // 1. The released deployment: its workflow bundle and its import activities.
    const released = (await import(
      pathToFileURL(join(releasedDir, 'activities', 'import.ts')).href
    )) as typeof importActivities;
    const releasedWorkers = [
      await Worker.create({
        connection: stack.temporal.env.nativeConnection,
        taskQueue,
        workflowBundle: releasedBundle,
        // Its cached workflows move to the next worker at once after shutdown.
        stickyQueueScheduleToStartTimeout: '1s',
      }),
      await Worker.create({
        connection: stack.temporal.env.nativeConnection,
        taskQueue: `${taskQueue}${HEALTHLAKE_API_TASK_QUEUE_SUFFIX}`,
        activities: released.createHealthLakeActivities({ healthLake: stack.healthLake }),
        maxTaskQueueActivitiesPerSecond: 200,
      }),
    ];
    const releasedRun = Promise.all(releasedWorkers.map((w) => w.run()));
    const started: Array<(typeof imports)[number] & { handle: WorkflowHandle; jobId: string }> = [];
    stack.local.emulator.updateSettings({ speed: { resourcesPerSecond: 5 } });
    try {
      for (const spec of imports) {
        const handle = await startFhirImport(client, {
          callerKey: `${taskQueue}-${spec.label}`,
          taskQueue,
          input: stack.input(spec.datastoreId, spec.prefix, spec.deadline ? { deadline: spec.deadline } : {}),
        });
        // Mid-wait: the job is held IN_PROGRESS and the released code has scheduled its next wait.
        const job = await waitFor(
          () => stack.local.emulator.jobs.list().find((j) => j.datastoreId === spec.datastoreId),
          (j) => j?.status === 'IN_PROGRESS',
          `the ${spec.label} job to run`,
          { stepMs: 10 },
        );
        assert.equal(stack.local.emulator.jobs.hang(job!.jobId), true);
        await waitFor(
          () => handle.query(progressQuery),
          (p) => p.status === 'IN_PROGRESS',
          `the ${spec.label} import to see IN_PROGRESS`,
        );
        await waitFor(
          async () => (await handle.describe()).raw.pendingActivities ?? [],
          (pending) => pending.some((a) => a.activityType?.name === 'awaitImportJobChange'),
          `the ${spec.label} import to wait`,
        );
        started.push({ ...spec, handle, jobId: job!.jobId });
      }
      // The deadline's timer is in the history the current code must replay.
      const history = await started[0]!.handle.fetchHistory();
      assert.equal(history.events?.filter((e) => e.timerStartedEventAttributes).length, 1);
    } finally {
      for (const worker of releasedWorkers) worker.shutdown();
      await releasedRun;
      stack.local.emulator.updateSettings({ speed: { resourcesPerSecond: null } });
    }

    // 2. The current deployment on the same task queue picks the waits up; the jobs then finish.
    const current = await stack.worker(taskQueue);
    const results = await current.runUntil(
      (async () => {
        for (const { jobId } of started) assert.equal(stack.local.emulator.jobs.release(jobId), true);
        // Every import settles (or is found stuck) before the stack stops; all failures are reported.
        const settled = await Promise.allSettled(started.map(({ handle }) => finishedOrStuck(handle)));
        const stuck = settled.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
        assert.deepEqual(stuck, [], 'imports that did not finish under the current code');
        return settled.map((s) => (s as PromiseFulfilledResult<FhirImportResult>).value);
      })(),
    );

    for (const [i, spec] of started.entries()) {
      const result = results[i]!;
      assert.equal(result.status, 'COMPLETED', spec.label);
      assert.equal(result.jobId, spec.jobId, spec.label);
      assert.equal(result.progress.counts.resourcesScanned, spec.data.counts.resources, spec.label);
      assert.equal(result.progress.counts.resourcesImported, spec.data.counts.resources, spec.label);
      assert.equal(result.progress.counts.resourcesWithCustomerError, 0, spec.label);
      assert.equal(result.progress.counts.scannedFiles, spec.data.counts.files, spec.label);
      const jobs = stack.local.emulator.jobs.list().filter((j) => j.datastoreId === spec.datastoreId);
      assert.deepEqual(
        jobs.map((j) => [j.jobId, j.status]),
        [[spec.jobId, 'COMPLETED']],
        spec.label,
      );
      // Started by the released code, finished by the current code.
      const buildIds = await workflowTaskBuildIds(spec.handle);
      assert.equal(buildIds[0], releasedWorkers[0]!.options.buildId, spec.label);
      assert.equal(buildIds.at(-1), current.main.options.buildId, spec.label);
      assert.deepEqual(await workflowTaskFailures(spec.handle), [], spec.label);
    }
    assert.notEqual(releasedWorkers[0]!.options.buildId, current.main.options.buildId);
  });
});
