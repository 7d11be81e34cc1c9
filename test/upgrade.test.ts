// An upgrade on real parts: imports, a landing, a hand-over and the gate started by the released
// deployment (workflow code, activities and worker of commit BASE_COMMIT, taken from git) and held
// mid-wait; that worker is shut down and the current one on the same task queue finishes them,
// deadline and continue-as-new included, with exact counts.
import assert from 'node:assert/strict';
import { temporal } from '@temporalio/proto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundle } from '@temporalio/worker';
import type { HealthLakeWorker } from '../worker';
import type * as workerModule from '../worker';
import { startFhirImport } from '../client';
import { gateStateQuery, gateWorkflowId } from '../workflows/gate-types';
import type { FhirLandingInput, FhirLandingResult } from '../workflows/landing-types';
import type { FhirPipelineOutcome } from '../workflows/pipeline';
import {
  FHIR_IMPORT_HANDOVER_WORKFLOW_TYPE,
  fhirHandoverSignalWithStartOptions,
} from '../workflows/pipeline-types';
import { progressQuery, type FhirImportResult } from '../workflows/types';
import { BUCKET, startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import { manifestFor } from './helpers/manifest';
import { waitFor } from './helpers/wait-for';

/**
 * The released workflow code running workflows must survive an upgrade from (issue 8's base).
 * `UPGRADE_FROM_COMMIT=<commit>` tries another (e.g. 2fdb9cb, before the deadline timer moved).
 */
const BASE_COMMIT = process.env.UPGRADE_FROM_COMMIT ?? 'b896d71';
const ROOT = join(__dirname, '..');
/** How long the current code may take to finish an import after the switch (a hang guard). */
const FINISH_LIMIT_MS = 45_000;

/**
 * Extracts the released deployment (`workflows/`, `activities/`, `worker/index.ts` and the S3
 * helpers the landing uses) at `commit` under `.local/` (inside the repository, so the old code
 * resolves this checkout's node_modules). Fails, never skips, when the commit is missing.
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
  execFileSync(
    'git',
    [
      'archive',
      '--format=tar',
      '-o',
      archive,
      commit,
      // The released library's source folders (whichever the commit has): the worker imports across them.
      ...['workflows', 'activities', 'worker', 'client', 'emulator'].filter((folder) =>
        execFileSync('git', ['ls-tree', '--name-only', commit, folder], {
          cwd: ROOT,
          encoding: 'utf8',
        }).trim(),
      ),
    ],
    { cwd: ROOT },
  );
  execFileSync('tar', ['-xf', archive, '-C', dir]);
  return dir;
}

/**
 * Workflow task failures in the history (a nondeterminism error shows as one, then retries forever).
 * `UnhandledCommand` is left out: the server refuses a completion or continue-as-new that raced a
 * new signal, and the SDK runs the task again with the signal; no code is at fault.
 */
async function workflowTaskFailures(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .filter(
      (e) =>
        e.workflowTaskFailedEventAttributes &&
        e.workflowTaskFailedEventAttributes.cause !==
          temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
    )
    .map((e) => e.workflowTaskFailedEventAttributes?.failure?.message ?? '(no message)');
}

/**
 * The workflow's result, or a failure naming the workflow task failure that keeps it (or one of
 * `alsoWatch`, e.g. its child or the gate) from finishing.
 */
async function finishedOrStuck<T>(
  handle: WorkflowHandle,
  alsoWatch: readonly WorkflowHandle[] = [],
): Promise<T> {
  const result = handle.result() as Promise<T>;
  const deadline = Date.now() + FINISH_LIMIT_MS;
  for (;;) {
    const settled = await Promise.race([result.then(() => true), sleep(250).then(() => false)]);
    if (settled) return result;
    for (const watched of [handle, ...alsoWatch]) {
      const failures = await workflowTaskFailures(watched).catch(() => []);
      if (failures.length > 0) {
        throw new Error(`${watched.workflowId} is stuck after the upgrade: ${failures.join('; ')}`);
      }
    }
    if (Date.now() > deadline) throw new Error(`${handle.workflowId} did not finish after the upgrade`);
  }
}

/** Settles every promise before returning (so nothing polls a stopped server), failing with all rejections. */
async function allFinished<T>(promises: ReadonlyArray<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const stuck = [...new Set(settled.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : [])))];
  assert.deepEqual(stuck, [], 'workflows that did not finish under the current code');
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/** The released worker pair from git, on `taskQueue`. */
async function releasedWorker(
  releasedDir: string,
  bundle: WorkflowBundle,
  stack: ImportTestStack,
  taskQueue: string,
): Promise<HealthLakeWorker> {
  const released = (await import(
    pathToFileURL(join(releasedDir, 'worker', 'index.ts')).href
  )) as typeof workerModule;
  return released.createHealthLakeWorker({
    connection: stack.temporal.env.nativeConnection,
    taskQueue,
    healthLake: stack.healthLake,
    s3: stack.local.s3,
    workflowBundle: bundle,
    apiActivitiesPerSecond: 200,
    // Its cached workflows move to the next worker at once after shutdown.
    workerOptions: { stickyQueueScheduleToStartTimeout: '1s' },
  });
}

/** Runs `fn` with the emulator's jobs slowed, so each can be held IN_PROGRESS before it ends. */
async function withSlowJobs<T>(stack: ImportTestStack, fn: () => Promise<T>): Promise<T> {
  stack.local.emulator.updateSettings({ speed: { resourcesPerSecond: 5 } });
  try {
    return await fn();
  } finally {
    stack.local.emulator.updateSettings({ speed: { resourcesPerSecond: null } });
  }
}

/** Holds the data store's running import job and waits until `importHandle` waits on it. */
async function holdMidWait(
  stack: ImportTestStack,
  datastoreId: string,
  importHandle: WorkflowHandle,
): Promise<string> {
  const job = await waitFor(
    () =>
      stack.local.emulator.jobs
        .list()
        .find((j) => j.datastoreId === datastoreId && j.status === 'IN_PROGRESS'),
    (j) => j !== undefined,
    `a job on ${datastoreId} to run`,
    { stepMs: 10 },
  );
  assert.equal(stack.local.emulator.jobs.hang(job!.jobId), true);
  await waitFor(
    () => importHandle.query(progressQuery),
    (p) => p.status === 'IN_PROGRESS',
    `${importHandle.workflowId} to see IN_PROGRESS`,
  );
  await waitFor(
    async () => (await importHandle.describe()).raw.pendingActivities ?? [],
    (pending) => pending.some((a) => a.activityType?.name === 'awaitImportJobChange'),
    `${importHandle.workflowId} to wait`,
  );
  return job!.jobId;
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
    const imports = await Promise.all(
      [withDeadline, without].map(async (spec) => {
        const prefix = `upgrade-${spec.label}`;
        const datastoreId = await stack.newDatastore(prefix);
        return { ...spec, prefix, datastoreId, data: await stack.land(prefix, 2) };
      }),
    );

    // 1. The released deployment starts both and waits: each job held IN_PROGRESS.
    const releasedPair = await releasedWorker(releasedDir, releasedBundle, stack, taskQueue);
    const started: Array<(typeof imports)[number] & { handle: WorkflowHandle; jobId: string }> = [];
    await releasedPair.runUntil(
      withSlowJobs(stack, async () => {
        for (const spec of imports) {
          const handle = await startFhirImport(client, {
            callerKey: `${taskQueue}-${spec.label}`,
            taskQueue,
            input: stack.input(
              spec.datastoreId,
              spec.prefix,
              spec.deadline ? { deadline: spec.deadline } : {},
            ),
          });
          started.push({ ...spec, handle, jobId: await holdMidWait(stack, spec.datastoreId, handle) });
        }
        // The deadline's timer is in the history the current code must replay.
        const history = await started[0]!.handle.fetchHistory();
        assert.equal(history.events?.filter((e) => e.timerStartedEventAttributes).length, 1);
      }),
    );

    // 2. The current deployment on the same task queue picks the waits up; the jobs then finish.
    const current = await stack.worker(taskQueue);
    const results = await current.runUntil(
      (async () => {
        for (const { jobId } of started) assert.equal(stack.local.emulator.jobs.release(jobId), true);
        return allFinished(started.map(({ handle }) => finishedOrStuck<FhirImportResult>(handle)));
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
      assert.equal(buildIds[0], releasedPair.main.options.buildId, spec.label);
      assert.equal(buildIds.at(-1), current.main.options.buildId, spec.label);
      assert.deepEqual(await workflowTaskFailures(spec.handle), [], spec.label);
    }
    assert.notEqual(releasedPair.main.options.buildId, current.main.options.buildId);
  });
  it('a landing holding the gate and a hand-over queued behind it (the gate continuing as new) finish under the current code', async () => {
    const taskQueue = uniqueName('upgrade-pipeline');
    const client = stack.temporal.env.client;
    const datastoreId = await stack.newDatastore('upgrade-pipeline');
    const landed = await stack.land('upgrade-landing-src', 2);
    const handedOver = await stack.land('upgrade-handover', 2);
    // One lease per gate run: the gate continues as new under each code version.
    const gate = { settings: { holderCheckIntervalMs: 200, idleTimeoutMs: 1_000, maxLeasesPerRun: 1 } };
    const landingImportId = `${taskQueue}-landing-import`;
    const handoverImportId = `${taskQueue}-handover-import`;
    const landing = client.workflow.getHandle(`${taskQueue}-landing`);
    const gateHandle = client.workflow.getHandle(gateWorkflowId(datastoreId));
    const landingInput: FhirLandingInput = {
      source: { kind: 's3', s3Uri: `s3://${BUCKET}/upgrade-landing-src/` },
      import: stack.input(datastoreId, 'upgrade-landing-dst', { reconciliation: 'strict' }),
      importWorkflowId: landingImportId,
      gate,
    };

    // 1. The released deployment lands, takes the gate, starts the import (held IN_PROGRESS), and
    // queues the hand-over behind it.
    const releasedPair = await releasedWorker(releasedDir, releasedBundle, stack, taskQueue);
    let handover: WorkflowHandle | undefined;
    let jobId = '';
    await releasedPair.runUntil(
      withSlowJobs(stack, async () => {
        await client.workflow.start('fhirLandingWorkflow', {
          taskQueue,
          workflowId: landing.workflowId,
          args: [landingInput],
        });
        jobId = await holdMidWait(stack, datastoreId, client.workflow.getHandle(landingImportId));
        handover = await client.workflow.signalWithStart(
          FHIR_IMPORT_HANDOVER_WORKFLOW_TYPE,
          fhirHandoverSignalWithStartOptions({
            batchKey: `${taskQueue}-handover`,
            taskQueue,
            handover: {
              import: {
                ...stack.input(datastoreId, 'upgrade-handover'),
                manifest: manifestFor('upgrade-handover', handedOver),
                reconciliation: 'strict',
              },
              importWorkflowId: handoverImportId,
              gate,
            },
          }),
        );
        await waitFor(
          () => gateHandle.query(gateStateQuery),
          (state) => state.holder?.label === landingImportId && state.queue[0]?.label === handoverImportId,
          'the hand-over to queue behind the landing at the gate',
        );
      }),
    );

    // 2. The current deployment picks everything up; the held job then finishes.
    const current = await stack.worker(taskQueue, { s3: stack.local.s3 });
    const imports = [landingImportId, handoverImportId].map((id) => client.workflow.getHandle(id));
    const everything = [landing, handover!, ...imports, gateHandle];
    const [landingResult, handoverResult, gateResult] = await current.runUntil(
      (async () => {
        assert.equal(stack.local.emulator.jobs.release(jobId), true);
        return allFinished<unknown>([
          // Each watches all: one stuck workflow (say the gate holder) blocks the others too.
          finishedOrStuck(landing, everything),
          finishedOrStuck(handover!, everything),
          finishedOrStuck(gateHandle, everything),
        ]);
      })(),
    );

    const landedResult = landingResult as FhirLandingResult;
    assert.equal(landedResult.manifest.totalLines, landed.counts.resources);
    assert.equal(landedResult.manifest.totalObjects, landed.counts.files);
    assert.equal(landedResult.importResult.status, 'COMPLETED');
    assert.equal(landedResult.importResult.jobId, jobId);
    assert.equal(landedResult.importResult.progress.counts.resourcesImported, landed.counts.resources);
    assert.deepEqual(landedResult.importResult.reconciliation?.mismatches, []);
    const handedOverResult = handoverResult as FhirPipelineOutcome;
    assert.equal(handedOverResult.importResult.status, 'COMPLETED');
    assert.equal(
      handedOverResult.importResult.progress.counts.resourcesImported,
      handedOver.counts.resources,
    );
    assert.deepEqual(handedOverResult.importResult.reconciliation?.mismatches, []);
    assert.deepEqual(gateResult, { datastoreId, leasesGranted: 2 });
    const jobs = stack.local.emulator.jobs.list().filter((j) => j.datastoreId === datastoreId);
    assert.deepEqual(
      jobs.map((j) => [j.jobId, j.status]),
      [
        [jobId, 'COMPLETED'],
        [handedOverResult.importResult.jobId, 'COMPLETED'],
      ],
    );
    for (const handle of everything) {
      assert.deepEqual(await workflowTaskFailures(handle), [], handle.workflowId);
    }
    // The landing and its import were started by the released code and finished by the current code.
    for (const handle of [landing, imports[0]!]) {
      const buildIds = await workflowTaskBuildIds(handle);
      assert.equal(buildIds[0], releasedPair.main.options.buildId, handle.workflowId);
      assert.equal(buildIds.at(-1), current.main.options.buildId, handle.workflowId);
    }
  });
});
