// Imports started by the workflow code of release 18a8820 (read from git) and continued by this
// code, on real parts: the inputs the new rules refuse (an output location inside the input prefix,
// a 2030-02-30 deadline) and the untagged job name must carry on as they began. Each old history
// also replays on the current bundle, partial and complete.
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, Worker, type WorkflowBundle } from '@temporalio/worker';
import { defaultJobName, type fhirImportWorkflow } from '../workflows/import';
import { fhirImportWorkflowId, HealthLakeDatastoreId, type FhirImportInput } from '../workflows/types';
import { startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import { waitFor } from './helpers/wait-for';

/** The release whose running imports this code must continue. */
const OLD_RELEASE = '18a8820';
const ROOT = join(__dirname, '..');
/** Gitignored; under the repository so the old code resolves this checkout's node_modules. */
const OLD_DIR = join(ROOT, '.local', `workflows-${OLD_RELEASE}`);
const MARKER_RECORDED = temporal.api.enums.v1.EventType.EVENT_TYPE_MARKER_RECORDED;

let stack: ImportTestStack;
let oldBundle: WorkflowBundle;

before(async () => {
  rmSync(OLD_DIR, { recursive: true, force: true });
  mkdirSync(OLD_DIR, { recursive: true });
  execSync(`git archive --format=tar ${OLD_RELEASE} workflows | tar -x -C "${OLD_DIR}"`, { cwd: ROOT });
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };
  [stack, oldBundle] = await Promise.all([
    startImportTestStack(),
    bundleWorkflowCode({ workflowsPath: join(OLD_DIR, 'workflows'), logger: quiet }),
  ]);
});
after(async () => {
  await stack?.stop();
});

/**
 * Starts the import on a worker running the old workflow code, holds its job IN_PROGRESS, stops
 * that worker, checks the partial history replays on the new code, then lets a worker running the
 * new code finish it.
 */
async function startOldFinishNew(label: string, prefix: string, extra: Partial<FhirImportInput>) {
  const datastoreId = await stack.newDatastore(label);
  const data = await stack.land(prefix, 2);
  const taskQueue = uniqueName(label);
  const client = stack.temporal.env.client;
  const jobsHere = () => stack.local.emulator.jobs.list().filter((job) => job.datastoreId === datastoreId);
  stack.local.emulator.updateSettings({ speed: { resourcesPerSecond: 5 } });
  try {
    const oldWorker = await stack.worker(taskQueue, { workflowBundle: oldBundle });
    const { handle, jobId } = await oldWorker.runUntil(
      (async () => {
        // Started as the released client did: today's startFhirImport would refuse these inputs.
        const started = await client.workflow.start<typeof fhirImportWorkflow>('fhirImportWorkflow', {
          workflowId: fhirImportWorkflowId(taskQueue),
          taskQueue,
          args: [stack.input(datastoreId, prefix, extra)],
          typedSearchAttributes: [{ key: HealthLakeDatastoreId, value: datastoreId }],
        });
        const [running] = await waitFor(
          jobsHere,
          (jobs) => jobs[0]?.status === 'IN_PROGRESS',
          'the old job to run',
        );
        assert.equal(stack.local.emulator.jobs.hang(running!.jobId), true);
        // The old code has taken the job in: its first wait is scheduled.
        await waitFor(
          async () => (await started.describe()).raw.pendingActivities ?? [],
          (pending) => pending.some((a) => a.activityType?.name === 'awaitImportJobChange'),
          'the old code to wait on the job',
        );
        return { handle: started, jobId: running!.jobId };
      })(),
    );
    const partial = await handle.fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: stack.bundle }, partial, handle.workflowId);

    const newWorker = await stack.worker(taskQueue);
    const result = await newWorker.runUntil(
      (async () => {
        stack.local.emulator.updateSettings({ speed: { resourcesPerSecond: null } });
        assert.equal(stack.local.emulator.jobs.release(jobId), true);
        return handle.result();
      })(),
    );
    const full = await handle.fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: stack.bundle }, full, handle.workflowId);
    const markers = (full.events ?? []).filter((event) => event.eventType === MARKER_RECORDED).length;
    return { result, jobId, data, jobs: jobsHere(), workflowId: handle.workflowId, markers };
  } finally {
    stack.local.emulator.updateSettings({ speed: { resourcesPerSecond: null } });
  }
}

describe(`imports started by ${OLD_RELEASE}, finished by this code`, () => {
  it('an output location inside the input prefix (now refused) finishes: one job, the old untagged name', async () => {
    const run = await startOldFinishNew('upgrade-nested', 'upgrade-nested', {
      outputS3Uri: 's3://import-tests/upgrade-nested/out',
    });
    assert.equal(run.result.status, 'COMPLETED');
    assert.equal(run.result.jobId, run.jobId);
    assert.equal(run.result.progress.counts.resourcesImported, run.data.counts.resources);
    assert.equal(run.result.jobName, defaultJobName(run.workflowId));
    assert.deepEqual(
      run.jobs.map((job) => [job.jobId, job.status]),
      [[run.jobId, 'COMPLETED']],
    );
    // Neither patch is recorded into an old history.
    assert.equal(run.markers, 0);
  });

  it('a 2030-02-30 deadline (now refused) and an explicit jobName finish as they began', async () => {
    const run = await startOldFinishNew('upgrade-feb30', 'upgrade-feb30', {
      deadline: '2030-02-30T00:00:00Z',
      jobName: 'nightly',
    });
    assert.equal(run.result.status, 'COMPLETED');
    assert.equal(run.result.jobId, run.jobId);
    assert.equal(run.result.progress.counts.resourcesImported, run.data.counts.resources);
    assert.equal(run.result.jobName, 'nightly');
    assert.equal(run.jobs.length, 1);
    assert.equal(run.markers, 0);
  });
});
