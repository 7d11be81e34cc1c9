// Acceptance tests of fhirImportWorkflow on real parts: a Temporal dev server (search attributes
// registered), the worker pair, the HealthLake emulator over HTTP through the real SDK client, and
// moto S3. Each test has its own task queue, workflow id and (where jobs could interfere) data store.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { readImportProgress, startFhirImport } from '../client';
import { generateFhirData, writeFhirDataToS3, type GeneratedFhirData } from '../emulator/fhir/generate';
import type { fhirImportWorkflow } from '../workflows/import';
import { importJobName } from '../workflows/import-input';
import type { LandingManifest } from '../workflows/manifest';
import {
  fhirImportWorkflowId,
  HealthLakeJobId,
  HealthLakeJobStatus,
  progressQuery,
  type FhirImportInput,
  type FhirImportResult,
  type ImportAbandonedDetails,
} from '../workflows/types';
import { HealthLake } from '@aws-sdk/client-healthlake';
import { startEmulator } from '../emulator';
import { LOCAL_S3_CREDENTIALS } from '../emulator/s3';
import { healthLakeClientFor, waitForDatastore, waitForImportJob } from '../emulator/testing';
import { INVALID_IMPORT_INPUTS, RULES_SINCE_18A8820, VALID_INPUT } from './helpers/import-inputs';
import { FAST_POLL, startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import { waitFor } from './helpers/wait-for';

let stack: ImportTestStack;

before(async () => {
  stack = await startImportTestStack();
});
after(async () => {
  await stack?.stop();
});

/** Runs one import on a fresh worker pair and returns the result or the failure's cause. */
async function runImport(
  label: string,
  input: FhirImportInput,
  during?: (handle: WorkflowHandle<typeof fhirImportWorkflow>) => Promise<void>,
  /** The caller key (and task queue); a fresh one by default. */
  callerKey: string = uniqueName(label),
): Promise<{ result?: FhirImportResult; failure?: ApplicationFailure; workflowId: string }> {
  const taskQueue = callerKey;
  const worker = await stack.worker(taskQueue);
  return worker.runUntil(
    (async () => {
      const handle = await startFhirImport(stack.temporal.env.client, {
        callerKey: taskQueue,
        taskQueue,
        input,
      });
      await during?.(handle);
      try {
        return { result: await handle.result(), workflowId: handle.workflowId };
      } catch (err) {
        assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
        assert.ok(
          err.cause instanceof ApplicationFailure,
          `expected ApplicationFailure, got ${String(err.cause)}`,
        );
        return { failure: err.cause, workflowId: handle.workflowId };
      }
    })(),
  );
}

function jobsOf(datastoreId: string) {
  return stack.local.emulator.jobs
    .list()
    .filter((job) => job.kind === 'import' && job.datastoreId === datastoreId);
}

/** Waits for the data store's only import job to exist (and, optionally, to satisfy `until`). */
async function jobOn(datastoreId: string, until: (status: string) => boolean = () => true): Promise<string> {
  for (let i = 0; i < 3_000; i++) {
    const job = jobsOf(datastoreId).at(-1);
    if (job && until(job.status)) return job.jobId;
    await sleep(10);
  }
  throw new Error(`no import job on ${datastoreId}`);
}

async function withSlowJobs<T>(resourcesPerSecond: number, fn: () => Promise<T>): Promise<T> {
  stack.local.emulator.updateSettings({ speed: { resourcesPerSecond } });
  try {
    return await fn();
  } finally {
    stack.local.emulator.updateSettings({ speed: { resourcesPerSecond: null } });
  }
}

/** The manifest a landing step would have produced for `land(prefix, ...)` (checksums not checked here). */
function manifestFor(
  prefix: string,
  data: GeneratedFhirData,
  extra: LandingManifest['objects'] = [],
): LandingManifest {
  const objects = [
    ...data.files.map((file) => ({
      key: `${prefix}/${file.name}`,
      sizeBytes: file.bytes,
      sha256: '0'.repeat(64),
      lines: file.lines,
    })),
    ...extra,
  ];
  return {
    s3Uri: `s3://import-tests/${prefix}/`,
    objects,
    totalObjects: objects.length,
    totalBytes: objects.reduce((sum, o) => sum + o.sizeBytes, 0),
    totalLines: objects.reduce((sum, o) => sum + o.lines, 0),
  };
}

describe('fhirImportWorkflow on the emulator', () => {
  it('imports a clean data set: COMPLETED with exact counts, search attributes and one job', async () => {
    const datastoreId = await stack.newDatastore('success');
    const data = await stack.land('success', 3);
    stack.local.emulator.resetCounters();
    const { result, workflowId } = await runImport('success', stack.input(datastoreId, 'success'));
    assert.ok(result);
    const [job] = jobsOf(datastoreId);
    assert.equal(jobsOf(datastoreId).length, 1);
    assert.equal(result.jobId, job?.jobId);
    assert.equal(result.status, 'COMPLETED');
    assert.equal(result.datastoreId, datastoreId);
    assert.equal(result.progress.counts.resourcesScanned, data.counts.resources);
    assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
    assert.equal(result.progress.counts.resourcesWithCustomerError, 0);
    assert.equal(result.progress.counts.scannedFiles, data.counts.files);
    assert.equal(result.errorRate, 0);
    assert.deepEqual(result.warnings, []);
    const folder = `s3://import-tests/out/success/${datastoreId}-FHIR_IMPORT-${result.jobId}/`;
    assert.equal(result.outputFolderS3Uri, folder);
    assert.equal(result.manifestS3Uri, `${folder}manifest.json`);
    assert.equal(result.submitTime, new Date(job!.submitTimeMs).toISOString());
    assert.equal(result.endTime, new Date(job!.endTimeMs!).toISOString());
    assert.equal(result.durationMs, job!.endTimeMs! - job!.submitTimeMs);
    // Every Describe the emulator answered is counted (the SDK's own retries are off).
    const counters = stack.local.emulator.counters();
    assert.equal(result.describeCalls, counters.DescribeFHIRImportJob?.calls);
    // The start inside the budget: one List by the exact job name, one Start.
    assert.equal(counters.ListFHIRImportJobs?.calls, 1);
    assert.equal(counters.StartFHIRImportJob?.calls, 1);
    // The job name carries the import's identity; the result shows the name HealthLake holds.
    assert.equal(result.jobName, importJobName(undefined, 'default', workflowId));
    assert.equal(job?.jobName, result.jobName);
    const description = await stack.temporal.env.client.workflow.getHandle(workflowId).describe();
    assert.equal(description.typedSearchAttributes.get(HealthLakeJobStatus), 'COMPLETED');
    assert.equal(description.typedSearchAttributes.get(HealthLakeJobId), result.jobId);
    assert.equal(await description.staticSummary(), `HealthLake import into ${datastoreId} (new job)`);
    // Every HealthLake API activity carries the data store as its fairness key (issue 9, item 5).
    const history = await stack.temporal.env.client.workflow.getHandle(workflowId).fetchHistory();
    const keys = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a !== null && a !== undefined)
      .map((a) => a.priority?.fairnessKey);
    assert.deepEqual(keys, Array<string>(keys.length).fill(datastoreId));
    assert.equal(keys.length, 3); // start + two waits
  });

  it('a caller-given fairnessKey (a tenant) goes on every API activity', async () => {
    const datastoreId = await stack.newDatastore('tenant');
    await stack.land('tenant', 1);
    const { result, workflowId } = await runImport(
      'tenant',
      stack.input(datastoreId, 'tenant', { fairnessKey: 'tenant-a' }),
    );
    assert.equal(result?.status, 'COMPLETED');
    const history = await stack.temporal.env.client.workflow.getHandle(workflowId).fetchHistory();
    // Every activity on the API queue (the start and each wait; a 1-patient job may end before a
    // second wait, so their number varies) carries the tenant's key.
    const apiActivities = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.taskQueue?.name?.endsWith('-healthlake-api'));
    assert.ok(apiActivities.length >= 2, `${apiActivities.length} API activities`);
    assert.deepEqual(
      apiActivities.map((a) => a?.priority?.fairnessKey),
      apiActivities.map(() => 'tenant-a'),
    );
  });

  it('the main worker caches at most 250 workflows by default; workerOptions overrides it', async () => {
    const byDefault = await stack.worker(uniqueName('cache'));
    assert.equal(byDefault.main.options.maxCachedWorkflows, 250);
    const custom = await stack.worker(uniqueName('cache'), { workerOptions: { maxCachedWorkflows: 40 } });
    assert.equal(custom.main.options.maxCachedWorkflows, 40);
    // Run and stop them (a created worker that never ran keeps the runtime alive).
    await byDefault.runUntil(Promise.resolve());
    await custom.runUntil(Promise.resolve());
  });

  it('a caller retrying with the same key gets the same import, running or finished', async () => {
    const datastoreId = await stack.newDatastore('same-key');
    await stack.land('same-key', 2);
    const taskQueue = uniqueName('same-key');
    const client = stack.temporal.env.client;
    const options = { callerKey: taskQueue, taskQueue, input: stack.input(datastoreId, 'same-key') };
    const worker = await stack.worker(taskQueue);
    const [first, second, result] = await worker.runUntil(
      (async () => {
        const started = await startFhirImport(client, options);
        const again = await startFhirImport(client, options);
        return [started, again, await started.result()] as const;
      })(),
    );
    const afterEnd = await startFhirImport(client, options);
    const runIds = await Promise.all([first, second, afterEnd].map(async (h) => (await h.describe()).runId));
    assert.equal(new Set(runIds).size, 1);
    assert.deepEqual(await afterEnd.result(), result);
    assert.equal(jobsOf(datastoreId).length, 1);
  });

  it('COMPLETED_WITH_ERRORS succeeds with a warning under the default policy', async () => {
    const datastoreId = await stack.newDatastore('cwe-warn');
    const data = await stack.land('cwe', 3, 0.1);
    const invalid = data.counts.invalidByLevel.strict;
    assert.ok(invalid > 0);
    const { result } = await runImport('cwe-warn', stack.input(datastoreId, 'cwe'));
    assert.ok(result);
    assert.equal(result.status, 'COMPLETED_WITH_ERRORS');
    assert.equal(result.progress.counts.resourcesWithCustomerError, invalid);
    assert.equal(result.progress.counts.resourcesImported, data.counts.resources - invalid);
    assert.equal(result.errorRate, invalid / data.counts.resources);
    assert.deepEqual(result.warnings, [
      `COMPLETED_WITH_ERRORS: ${invalid} of ${data.counts.resources} resources and 0 files failed; ` +
        `see ${result.outputFolderS3Uri}FAILURE/`,
    ]);
  });

  it('COMPLETED_WITH_ERRORS fails above the allowed error rate', async () => {
    const datastoreId = await stack.newDatastore('cwe-fail');
    const data = await stack.land('cwe', 3, 0.1);
    const invalid = data.counts.invalidByLevel.strict;
    const rate = invalid / data.counts.resources;
    const { failure } = await runImport(
      'cwe-fail',
      stack.input(datastoreId, 'cwe', {
        completedWithErrors: { mode: 'fail-above-error-rate', maxErrorRate: 0.01 },
      }),
    );
    assert.ok(failure);
    assert.equal(failure.type, 'HealthLakeImportErrorRateExceeded');
    assert.equal(failure.nonRetryable, true);
    const [job] = jobsOf(datastoreId);
    assert.equal(
      failure.message,
      `import job ${job?.jobId} COMPLETED_WITH_ERRORS with error rate ${rate.toFixed(4)} ` +
        `(${invalid} of ${data.counts.resources} resources), above the allowed 0.01`,
    );
    const [details] = failure.details as [FhirImportResult];
    assert.equal(details.status, 'COMPLETED_WITH_ERRORS');
  });

  it('FAILED job → HealthLakeImportFailed with the job Message and last progress', async () => {
    const datastoreId = await stack.newDatastore('failed');
    const { failure } = await runImport('failed', stack.input(datastoreId, 'nothing-landed-here'));
    assert.ok(failure);
    const [job] = jobsOf(datastoreId);
    assert.equal(job?.status, 'FAILED');
    assert.ok(job?.message);
    assert.equal(failure.type, 'HealthLakeImportFailed');
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.message, `import job ${job.jobId} FAILED: ${job.message}`);
    const [details] = failure.details as [{ jobId: string; message: string; progress: { status: string } }];
    assert.equal(details.jobId, job.jobId);
    assert.equal(details.message, job.message);
    assert.equal(details.progress.status, 'FAILED');
  });

  it('an unknown data store fails at once with ResourceNotFoundException, one call, no retry', async () => {
    stack.local.emulator.resetCounters();
    const missing = 'ffffffffffffffffffffffffffffffff';
    const { failure } = await runImport('missing', stack.input(missing, 'missing'));
    assert.ok(failure);
    assert.equal(failure.type, 'ResourceNotFoundException');
    assert.equal(failure.nonRetryable, true);
    assert.match(
      failure.message,
      /^ListFHIRImportJobs failed with ResourceNotFoundException: .*ffffffffffffffffffffffffffffffff/,
    );
    const counters = stack.local.emulator.counters();
    assert.equal(counters.ListFHIRImportJobs?.calls, 1);
    assert.equal(counters.StartFHIRImportJob, undefined);
  });

  it('waits through QUEUED behind another import, then completes', async () => {
    const datastoreId = await stack.newDatastore('queued');
    const data = await stack.land('queued', 2);
    const blockerId = await stack.startJobDirectly(datastoreId, 'queued');
    await jobOn(datastoreId, (status) => status === 'IN_PROGRESS');
    stack.local.emulator.jobs.hang(blockerId);
    const { result } = await runImport('queued', stack.input(datastoreId, 'queued'), async (handle) => {
      for (let i = 0; i < 500; i++) {
        const progress = await handle.query(progressQuery);
        if (progress.status === 'QUEUED') break;
        await sleep(10);
      }
      assert.equal((await handle.query(progressQuery)).status, 'QUEUED');
      assert.equal(stack.local.emulator.jobs.release(blockerId), true);
    });
    assert.ok(result);
    assert.equal(result.status, 'COMPLETED');
    assert.notEqual(result.jobId, blockerId);
    assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
  });

  it('attaches to a job started elsewhere without starting another', async () => {
    const datastoreId = await stack.newDatastore('attach');
    const data = await stack.land('attach', 2);
    const existingJobId = await stack.startJobDirectly(datastoreId, 'attach');
    const { result } = await runImport('attach', stack.input(datastoreId, 'attach', { existingJobId }));
    assert.ok(result);
    assert.equal(result.jobId, existingJobId);
    assert.equal(result.status, 'COMPLETED');
    assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
    assert.equal(jobsOf(datastoreId).length, 1);
  });

  it('fails with HealthLakeImportDeadlineExceeded past the deadline, naming the running job', async () => {
    const datastoreId = await stack.newDatastore('deadline');
    await stack.land('deadline', 2);
    // Roomy for a loaded machine: the job only has to reach IN_PROGRESS, where it is held.
    const deadline = new Date(Date.now() + 8_000).toISOString();
    const { failure } = await withSlowJobs(5, () =>
      runImport('deadline', stack.input(datastoreId, 'deadline', { deadline }), async () => {
        const jobId = await jobOn(datastoreId, (status) => status === 'IN_PROGRESS');
        assert.equal(stack.local.emulator.jobs.hang(jobId), true);
      }),
    );
    assert.ok(failure);
    const [job] = jobsOf(datastoreId);
    assert.equal(failure.type, 'HealthLakeImportDeadlineExceeded');
    assert.equal(
      failure.message,
      `deadline ${deadline} passed while import job ${job?.jobId} was IN_PROGRESS; the job keeps running in HealthLake`,
    );
    const [details] = failure.details as [ImportAbandonedDetails];
    assert.equal(details.jobId, job?.jobId);
    assert.equal(job?.status, 'IN_PROGRESS');
    stack.local.emulator.jobs.fail(job.jobId, 'test cleanup');
  });

  it('the deadline covers the start: HealthLakeImportDeadlineExceeded while StartFHIRImportJob is in flight', async () => {
    const datastoreId = await stack.newDatastore('deadline-start');
    await stack.land('deadline-start', 2);
    // The start answers 6 s late; the deadline is 3 s after the workflow starts.
    stack.local.emulator.faults.set('StartFHIRImportJob', { latencyMs: 6_000 });
    try {
      const deadline = new Date(Date.now() + 3_000).toISOString();
      const { failure } = await runImport(
        'deadline-start',
        stack.input(datastoreId, 'deadline-start', { deadline }),
      );
      assert.ok(failure);
      assert.equal(failure.type, 'HealthLakeImportDeadlineExceeded');
      assert.equal(
        failure.message,
        `deadline ${deadline} passed before StartFHIRImportJob answered (a re-run reattaches to a job it started)`,
      );
      const [details] = failure.details as [ImportAbandonedDetails];
      assert.equal(details.jobId, undefined);
      assert.equal(details.progress.status, 'NOT_STARTED');
    } finally {
      stack.local.emulator.faults.clear();
      const started = await waitFor(
        () => jobsOf(datastoreId),
        (jobs) => jobs.length === 1,
        'the late start to land',
      ).catch(() => []);
      for (const job of started) stack.local.emulator.jobs.fail(job.jobId, 'test cleanup');
    }
  });

  it('stops waiting when the workflow is cancelled; the failure names the still-running job', async () => {
    const datastoreId = await stack.newDatastore('cancel');
    await stack.land('cancel', 2);
    const { failure } = await withSlowJobs(5, () =>
      runImport('cancel', stack.input(datastoreId, 'cancel'), async (handle) => {
        const jobId = await jobOn(datastoreId, (status) => status === 'IN_PROGRESS');
        assert.equal(stack.local.emulator.jobs.hang(jobId), true);
        await waitFor(
          () => handle.query(progressQuery),
          (progress) => progress.status === 'IN_PROGRESS',
          'the workflow to see IN_PROGRESS',
        );
        await handle.cancel();
      }),
    );
    assert.ok(failure);
    const [job] = jobsOf(datastoreId);
    assert.equal(failure.type, 'ImportWaitCancelled');
    assert.equal(
      failure.message,
      `workflow cancelled while import job ${job?.jobId} was IN_PROGRESS; the job keeps running in HealthLake (imports cannot be cancelled)`,
    );
    assert.equal((failure.details as [ImportAbandonedDetails])[0].jobId, job?.jobId);
    assert.equal(job?.status, 'IN_PROGRESS');
    stack.local.emulator.jobs.fail(job.jobId, 'test cleanup');
  });

  it('a job found already ended (crash after the start) gives its exact counts, message and policy outcome', async () => {
    const datastoreId = await stack.newDatastore('found-ended');
    const data = await stack.land('found-ended', 3, 0.1);
    const invalid = data.counts.invalidByLevel.strict;
    assert.ok(invalid > 0);
    // What a crashed first attempt left behind: the job under the name and S3 locations the workflow
    // uses, already COMPLETED_WITH_ERRORS when the workflow looks it up.
    const jobName = 'found-ended-import';
    const warnKey = uniqueName('found-warn');
    const jobId = await stack.startJobDirectly(datastoreId, 'found-ended', {
      jobName: importJobName(jobName, 'default', fhirImportWorkflowId(warnKey)),
      validationLevel: 'strict',
    });
    const ended = await waitForImportJob(stack.local.healthLake, datastoreId, jobId);
    assert.equal(ended.JobStatus, 'COMPLETED_WITH_ERRORS');
    const job = jobsOf(datastoreId)[0]!;
    const rate = invalid / data.counts.resources;

    const warn = await runImport(
      'found-warn',
      stack.input(datastoreId, 'found-ended', { jobName }),
      undefined,
      warnKey,
    );
    assert.ok(warn.result, `failed: ${warn.failure?.message}`);
    assert.equal(warn.result.jobId, jobId);
    assert.equal(warn.result.status, 'COMPLETED_WITH_ERRORS');
    assert.equal(warn.result.progress.counts.resourcesScanned, data.counts.resources);
    assert.equal(warn.result.progress.counts.resourcesWithCustomerError, invalid);
    assert.equal(warn.result.progress.counts.resourcesImported, data.counts.resources - invalid);
    assert.equal(warn.result.errorRate, rate);
    assert.equal(warn.result.message, job.message);
    assert.equal(warn.result.submitTime, new Date(job.submitTimeMs).toISOString());
    assert.equal(warn.result.endTime, new Date(job.endTimeMs!).toISOString());
    assert.equal(warn.result.describeCalls, 1);
    assert.deepEqual(warn.result.warnings, [
      `COMPLETED_WITH_ERRORS: ${invalid} of ${data.counts.resources} resources and 0 files failed; ` +
        `see ${warn.result.outputFolderS3Uri}FAILURE/`,
    ]);

    // Another import (another caller key) has its own name: its crashed start left its own job.
    const failKey = uniqueName('found-fail');
    const failJobId = await stack.startJobDirectly(datastoreId, 'found-ended', {
      jobName: importJobName(jobName, 'default', fhirImportWorkflowId(failKey)),
      validationLevel: 'strict',
    });
    await waitForImportJob(stack.local.healthLake, datastoreId, failJobId);
    const strict = await runImport(
      'found-fail',
      stack.input(datastoreId, 'found-ended', {
        jobName,
        completedWithErrors: { mode: 'fail-above-error-rate', maxErrorRate: 0.01 },
      }),
      undefined,
      failKey,
    );
    assert.ok(strict.failure);
    assert.equal(strict.failure.type, 'HealthLakeImportErrorRateExceeded');
    assert.equal(
      strict.failure.message,
      `import job ${failJobId} COMPLETED_WITH_ERRORS with error rate ${rate.toFixed(4)} ` +
        `(${invalid} of ${data.counts.resources} resources), above the allowed 0.01`,
    );
    assert.deepEqual(
      jobsOf(datastoreId).map((j) => j.jobId),
      [jobId, failJobId],
    );
  });

  it('two imports (different caller keys) with the same jobName and S3 locations get two jobs and their own counts', async () => {
    const datastoreId = await stack.newDatastore('shared-name');
    const first = await stack.land('shared-name', 2);
    const input = stack.input(datastoreId, 'shared-name', { jobName: 'nightly' });
    const one = await runImport('shared-1', input);
    assert.ok(one.result, one.failure?.message);
    // Files landed after the first import: the second import must read them.
    const later = generateFhirData({ patients: 1, seed: 11 });
    await writeFhirDataToS3(later, stack.local.s3, 's3://import-tests/shared-name/later/');
    const two = await runImport('shared-2', input);
    assert.ok(two.result, two.failure?.message);
    const jobs = jobsOf(datastoreId);
    assert.deepEqual(
      jobs.map((job) => [job.jobId, job.jobName, job.status]),
      [
        [one.result.jobId, importJobName('nightly', 'default', one.workflowId), 'COMPLETED'],
        [two.result.jobId, importJobName('nightly', 'default', two.workflowId), 'COMPLETED'],
      ],
    );
    assert.notEqual(one.result.jobId, two.result.jobId);
    assert.equal(one.result.progress.counts.resourcesImported, first.counts.resources);
    assert.equal(
      two.result.progress.counts.resourcesImported,
      first.counts.resources + later.counts.resources,
    );
    assert.equal(two.result.progress.counts.scannedFiles, first.counts.files + later.counts.files);
    assert.equal(two.result.jobName, jobs[1]?.jobName);
  });

  it('caller keys batch(1) and batch[1] get different job names and two jobs', async () => {
    const datastoreId = await stack.newDatastore('brackets');
    const data = await stack.land('brackets', 1);
    const base = uniqueName('brackets');
    const round = await runImport(
      'round',
      stack.input(datastoreId, 'brackets'),
      undefined,
      `${base}-batch(1)`,
    );
    const square = await runImport(
      'square',
      stack.input(datastoreId, 'brackets'),
      undefined,
      `${base}-batch[1]`,
    );
    assert.ok(round.result, round.failure?.message);
    assert.ok(square.result, square.failure?.message);
    assert.notEqual(round.result.jobId, square.result.jobId);
    assert.notEqual(round.result.jobName, square.result.jobName);
    // Both readable parts clean to the same text; the identity tag tells them apart.
    assert.equal(round.result.jobName?.slice(0, -17), square.result.jobName?.slice(0, -17));
    assert.deepEqual(
      jobsOf(datastoreId).map((job) => job.jobName),
      [round.result.jobName, square.result.jobName],
    );
    assert.equal(square.result.progress.counts.resourcesImported, data.counts.resources);
  });

  it('a throttled List is retried inside the start attempt (4 calls per attempt), then the next attempt', async () => {
    const datastoreId = await stack.newDatastore('list-throttled');
    const data = await stack.land('list-throttled', 1);
    stack.local.emulator.resetCounters();
    stack.local.emulator.faults.set('ListFHIRImportJobs', { throttleRate: 1 });
    try {
      const { result, workflowId } = await runImport(
        'list-throttled',
        stack.input(datastoreId, 'list-throttled', { pollPolicy: { attemptTimeoutMs: 30_000 } }),
        async () => {
          // Into the second attempt: the first one made its 4 calls (1 + 3 in-attempt retries).
          await waitFor(
            () => stack.local.emulator.counters().ListFHIRImportJobs?.throttled ?? 0,
            (throttled) => throttled >= 5,
            'a second start attempt',
          );
          stack.local.emulator.faults.clear();
        },
      );
      assert.ok(result);
      assert.equal(result.status, 'COMPLETED');
      assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
      const counters = stack.local.emulator.counters();
      const throttled = counters.ListFHIRImportJobs!.throttled;
      assert.equal(counters.ListFHIRImportJobs!.calls, throttled + 1);
      assert.equal(counters.StartFHIRImportJob?.calls, 1);
      // The attempt that succeeded: 4 List calls per attempt, the (throttled + 1)-th call answered.
      const history = await stack.temporal.env.client.workflow.getHandle(workflowId).fetchHistory();
      const startAttempts = (history.events ?? [])
        .map((event) => event.activityTaskStartedEventAttributes?.attempt)
        .filter((attempt) => attempt !== undefined && attempt !== null);
      assert.equal(startAttempts[0], Math.ceil((throttled + 1) / 4));
    } finally {
      stack.local.emulator.faults.clear();
    }
  });

  it('a cancel while StartFHIRImportJob is in flight fails ImportWaitCancelled naming the started job', async () => {
    const datastoreId = await stack.newDatastore('cancel-start');
    await stack.land('cancel-start', 2);
    // The start answers 1.5 s late; the cancel arrives while it is in flight.
    stack.local.emulator.faults.set('StartFHIRImportJob', { latencyMs: 1_500 });
    try {
      const { failure } = await withSlowJobs(5, () =>
        runImport('cancel-start', stack.input(datastoreId, 'cancel-start'), async (handle) => {
          await waitFor(
            async () => (await handle.describe()).raw.pendingActivities ?? [],
            (pending) => pending.some((a) => a.activityType?.name === 'startImportJob'),
            'the start activity to be pending',
          );
          assert.equal(jobsOf(datastoreId).length, 0);
          await handle.cancel();
        }),
      );
      assert.ok(failure);
      const jobs = jobsOf(datastoreId);
      assert.equal(jobs.length, 1);
      const [job] = jobs;
      assert.equal(failure.type, 'ImportWaitCancelled');
      assert.equal(
        failure.message,
        `workflow cancelled while import job ${job?.jobId} was SUBMITTED; the job keeps running in HealthLake (imports cannot be cancelled)`,
      );
      assert.equal((failure.details as [ImportAbandonedDetails])[0].jobId, job?.jobId);
      stack.local.emulator.jobs.fail(job!.jobId, 'test cleanup');
    } finally {
      stack.local.emulator.faults.clear();
    }
  });

  it('a re-run under the same caller key after a cancel reattaches to the still-running job', async () => {
    // An emulator whose clock runs 2 minutes behind, on the same S3: its jobs look submitted before
    // the re-run's "since my start" window, so only the running-job lookup can find them.
    const skewed = await startEmulator({
      preset: 'fast',
      s3Endpoint: stack.local.s3Server.endpoint,
      nowMs: () => Date.now() - 120_000,
    });
    const healthLake = new HealthLake({
      endpoint: skewed.url,
      region: skewed.region,
      credentials: { ...LOCAL_S3_CREDENTIALS },
      maxAttempts: 1,
    });
    try {
      const created = await healthLake.createFHIRDatastore({ DatastoreTypeVersion: 'R4' });
      const datastoreId = created.DatastoreId!;
      const waiter = healthLakeClientFor(skewed);
      await waitForDatastore(waiter, datastoreId).finally(() => waiter.destroy());
      const data = await stack.land('rerun', 2);
      const jobs = () => skewed.jobs.list().filter((job) => job.datastoreId === datastoreId);
      const taskQueue = uniqueName('rerun');
      const client = stack.temporal.env.client;
      const options = { callerKey: taskQueue, taskQueue, input: stack.input(datastoreId, 'rerun') };
      const worker = await stack.worker(taskQueue, { healthLake });
      skewed.updateSettings({ speed: { resourcesPerSecond: 5 } });
      const { jobId, firstRunId, second, result } = await worker.runUntil(
        (async () => {
          const first = await startFhirImport(client, options);
          const running = await waitFor(
            () => jobs()[0],
            (job) => job?.status === 'IN_PROGRESS',
            'the first job to run',
          );
          const jobId = running!.jobId;
          assert.equal(skewed.jobs.hang(jobId), true);
          await first.cancel();
          await assert.rejects(first.result(), (err: unknown) => {
            assert.ok(err instanceof WorkflowFailedError);
            assert.equal((err.cause as ApplicationFailure).type, 'ImportWaitCancelled');
            return true;
          });
          const firstRunId = (await first.describe()).runId;
          const second = await startFhirImport(client, options);
          await waitFor(
            () => second.query(progressQuery),
            (progress) => progress.jobId !== undefined,
            'the re-run to start or attach',
          );
          assert.equal(skewed.jobs.release(jobId), true);
          skewed.updateSettings({ speed: { resourcesPerSecond: null } });
          return { jobId, firstRunId, second, result: await second.result() };
        })(),
      );
      assert.notEqual((await second.describe()).runId, firstRunId);
      assert.equal(result.jobId, jobId);
      assert.equal(result.status, 'COMPLETED');
      assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
      assert.deepEqual(
        jobs().map((job) => [job.jobId, job.status]),
        [[jobId, 'COMPLETED']],
      );
    } finally {
      healthLake.destroy();
      await skewed.stop();
    }
  });

  it('completes with 30 % of Describe calls throttled, counting every call', async () => {
    const datastoreId = await stack.newDatastore('throttled');
    const data = await stack.land('throttled', 2);
    stack.local.emulator.resetCounters();
    stack.local.emulator.faults.set('DescribeFHIRImportJob', { throttleRate: 0.3 });
    try {
      // Held IN_PROGRESS until 40 Describe calls reached the emulator (P(none throttled) = 0.7^40 ≈ 6e-7).
      const { result } = await withSlowJobs(20, () =>
        runImport('throttled', stack.input(datastoreId, 'throttled'), async () => {
          const jobId = await jobOn(datastoreId, (status) => status === 'IN_PROGRESS');
          stack.local.emulator.jobs.hang(jobId);
          for (let i = 0; i < 3_000; i++) {
            if ((stack.local.emulator.counters().DescribeFHIRImportJob?.calls ?? 0) >= 40) break;
            await sleep(10);
          }
          stack.local.emulator.jobs.release(jobId);
        }),
      );
      assert.ok(result);
      assert.equal(result.status, 'COMPLETED');
      assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
      const counters = stack.local.emulator.counters().DescribeFHIRImportJob!;
      assert.ok(counters.throttled > 0, `throttled ${counters.throttled} of ${counters.calls}`);
      assert.equal(result.describeCalls, counters.calls);
    } finally {
      stack.local.emulator.faults.clear();
    }
  });

  it('the client helper reads the same counts as the emulator while the job runs', async () => {
    const datastoreId = await stack.newDatastore('live');
    await stack.land('live', 2);
    await withSlowJobs(20, () =>
      runImport('live', stack.input(datastoreId, 'live'), async (handle) => {
        const jobId = await jobOn(datastoreId);
        for (let i = 0; i < 500; i++) {
          if ((jobsOf(datastoreId)[0]?.progress?.TotalNumberOfResourcesImported ?? 0) > 0) break;
          await sleep(10);
        }
        stack.local.emulator.jobs.hang(jobId);
        await sleep(100); // let a step in flight land
        const emulated = jobsOf(datastoreId)[0]!.progress!;
        // Within one poll (≤ maxDelayMs 100 ms after the counts froze) the heartbeat shows them (the
        // helper answers from the query in the moment between two waits, before a heartbeat).
        let live = await readImportProgress(stack.temporal.env.client, handle.workflowId);
        for (
          let i = 0;
          i < 100 &&
          (live.source !== 'heartbeat' ||
            live.progress.counts.resourcesImported !== emulated.TotalNumberOfResourcesImported);
          i++
        ) {
          await sleep(20);
          live = await readImportProgress(stack.temporal.env.client, handle.workflowId);
        }
        assert.equal(live.source, 'heartbeat');
        assert.equal(live.progress.jobId, jobId);
        assert.equal(live.progress.status, 'IN_PROGRESS');
        assert.deepEqual(live.progress.counts, {
          scannedFiles: emulated.TotalNumberOfScannedFiles,
          scannedMb: emulated.TotalSizeOfScannedFilesInMB,
          importedFiles: emulated.TotalNumberOfImportedFiles,
          resourcesScanned: emulated.TotalNumberOfResourcesScanned,
          resourcesImported: emulated.TotalNumberOfResourcesImported,
          resourcesWithCustomerError: emulated.TotalNumberOfResourcesWithCustomerError,
          filesReadWithCustomerError: emulated.TotalNumberOfFilesReadWithCustomerError,
          throughput: emulated.Throughput,
        });
        assert.equal(stack.local.emulator.jobs.release(jobId), true);
      }),
    );
  });

  it('a job needing 200+ polls completes with a history bounded independently of the poll count', async () => {
    const datastoreId = await stack.newDatastore('long');
    await stack.land('long', 2);
    const input = stack.input(datastoreId, 'long', {
      pollPolicy: {
        initialDelayMs: 5,
        minDelayMs: 5,
        maxDelayMs: 5,
        multiplier: 1,
        jitter: 0,
        attemptTimeoutMs: 5_000,
      },
    });
    stack.local.emulator.resetCounters();
    const { result, workflowId } = await withSlowJobs(20, () =>
      runImport('long', input, async () => {
        const jobId = await jobOn(datastoreId, (status) => status === 'IN_PROGRESS');
        stack.local.emulator.jobs.hang(jobId);
        for (let i = 0; i < 3_000; i++) {
          if ((stack.local.emulator.counters().DescribeFHIRImportJob?.calls ?? 0) >= 210) break;
          await sleep(10);
        }
        stack.local.emulator.jobs.release(jobId);
      }),
    );
    assert.ok(result);
    assert.equal(result.status, 'COMPLETED');
    assert.ok(result.describeCalls >= 210, `describe calls ${result.describeCalls}`);
    const history = await stack.temporal.env.client.workflow.getHandle(workflowId).fetchHistory();
    const events = history.events?.length ?? 0;
    // The history replays deterministically on the same workflow code.
    await Worker.runReplayHistory({ workflowBundle: stack.bundle }, history, workflowId);
    assert.equal(events, HISTORY_EVENTS_TWO_STATUS_CHANGES, `${result.describeCalls} Describe calls`);
  });

  it('without a manifest the query gets fresh counts on the progress cadence: 2 log-spaced returns, 43 events', async () => {
    const datastoreId = await stack.newDatastore('cadence');
    await stack.land('cadence', 2);
    const input = stack.input(datastoreId, 'cadence', {
      pollPolicy: { ...FAST_POLL, progressIntervalMs: 200, maxProgressMilestones: 2 },
    });
    const waitCompletions = async (handle: WorkflowHandle): Promise<number> =>
      ((await handle.fetchHistory()).events ?? []).filter((e) => e.activityTaskCompletedEventAttributes)
        .length - 1; // minus the start activity
    const { result, workflowId } = await withSlowJobs(20, () =>
      runImport('cadence', input, async (handle) => {
        const jobId = await jobOn(datastoreId, (status) => status === 'IN_PROGRESS');
        await waitFor(
          () => jobsOf(datastoreId)[0]?.progress?.TotalNumberOfResourcesImported ?? 0,
          (imported) => imported > 0,
          'counts moving',
        );
        stack.local.emulator.jobs.hang(jobId);
        const frozen = jobsOf(datastoreId)[0]!.progress!.TotalNumberOfResourcesImported;
        // The IN_PROGRESS return, then the two progress returns (200 ms and 2.4 s later), then none.
        await waitFor(
          () => waitCompletions(handle),
          (n) => n >= 3,
          'two progress returns',
        );
        const queried = await handle.query(progressQuery);
        assert.equal(queried.status, 'IN_PROGRESS');
        // Fails before the change: without a manifest the query kept the IN_PROGRESS return's counts.
        assert.ok(frozen > 0);
        assert.equal(queried.counts.resourcesImported, frozen);
        // Ten more polls: no third return (the budget is spent; the heartbeat stays live).
        const describes = () => stack.local.emulator.counters().DescribeFHIRImportJob?.calls ?? 0;
        const before = describes();
        await waitFor(describes, (n) => n >= before + 10, 'ten more Describe calls');
        assert.equal(await waitCompletions(handle), 3);
        assert.equal(stack.local.emulator.jobs.release(jobId), true);
      }),
    );
    assert.equal(result?.status, 'COMPLETED');
    const history = await stack.temporal.env.client.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: stack.bundle }, history, workflowId);
    // 28 for the two status changes + 2 progress returns × 6 (activity 3, task 3, no upsert).
    assert.equal(history.events?.length, HISTORY_EVENTS_TWO_STATUS_CHANGES + 2 * 6);
  });

  it('with a landing manifest: 100 %, ETA 0 and a reconciliation without mismatches', async () => {
    const datastoreId = await stack.newDatastore('manifest');
    const data = await stack.land('manifest', 2);
    const manifest = manifestFor('manifest', data);
    const { result } = await runImport(
      'manifest',
      stack.input(datastoreId, 'manifest', { manifest, reconciliation: 'strict' }),
    );
    assert.ok(result);
    assert.equal(result.progress.percent, 100);
    assert.equal(result.progress.etaMs, 0);
    assert.deepEqual(result.reconciliation, {
      filesLanded: data.counts.files,
      filesScanned: data.counts.files,
      linesLanded: data.counts.resources,
      resourcesScanned: data.counts.resources,
      resourcesImported: data.counts.resources,
      resourcesWithCustomerError: 0,
      mismatches: [],
    });
  });

  it('strict reconciliation fails when the job read less than the manifest says was landed', async () => {
    const datastoreId = await stack.newDatastore('mismatch');
    const data = await stack.land('mismatch', 2);
    const manifest = manifestFor('mismatch', data, [
      { key: 'mismatch/lost.ndjson', sizeBytes: 10, sha256: '0'.repeat(64), lines: 1 },
    ]);
    const { failure } = await runImport(
      'mismatch',
      stack.input(datastoreId, 'mismatch', { manifest, reconciliation: 'strict' }),
    );
    assert.ok(failure);
    const files = data.counts.files;
    const lines = data.counts.resources;
    assert.equal(failure.type, 'HealthLakeImportReconciliationMismatch');
    assert.equal(
      failure.message,
      `import does not reconcile with the landing manifest: files scanned ${files} != files landed ${files + 1}; ` +
        `resources scanned ${lines} != lines landed ${lines + 1}; ` +
        `resources imported ${lines} + with customer error 0 = ${lines} != lines landed ${lines + 1}`,
    );
  });

  it(`fails fast, without retries or activities, on ${INVALID_IMPORT_INPUTS.length} invalid inputs`, async () => {
    const taskQueue = uniqueName('invalid');
    const worker = await stack.worker(taskQueue);
    await worker.runUntil(
      Promise.all(
        INVALID_IMPORT_INPUTS.map(async ([label, overrides, expected], index) => {
          const input: Record<string, unknown> = {
            ...VALID_INPUT,
            pollPolicy: { minDelayMs: 20 },
            ...overrides,
          };
          for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete input[key];
          const handle = await stack.temporal.env.client.workflow.start('fhirImportWorkflow', {
            taskQueue,
            workflowId: `${taskQueue}-${index}`,
            args: [input],
          });
          await assert.rejects(handle.result(), (err: unknown) => {
            assert.ok(err instanceof WorkflowFailedError, label);
            assert.ok(err.cause instanceof ApplicationFailure, label);
            assert.equal(err.cause.type, 'InvalidFhirImportInput', label);
            assert.equal(err.cause.nonRetryable, true, label);
            // The one time-dependent rule names the workflow's own start time: compare up to it.
            const stable = expected.replace(/ \(\d{4}-\d{2}-\d{2}T.*$/, '');
            assert.ok(
              err.cause.message.startsWith(`invalid FhirImportInput: ${stable}`),
              `${label}: ${err.cause.message}`,
            );
            return true;
          });
          const history = await handle.fetchHistory();
          const types = (history.events ?? []).map((e) => e.eventType);
          // Started, task scheduled/started/completed, failed: no activity, no retry. A rule added
          // after release 18a8820 also records its patch (a marker and the SDK's upsert of
          // TemporalChangeVersion); an older history replays without it.
          const patch = RULES_SINCE_18A8820.has(label) ? 2 : 0;
          assert.equal(types.length, 5 + patch, label);
          const { raw } = await handle.describe();
          assert.equal(raw.workflowExecutionInfo?.status, 3 /* FAILED */, label);
        }),
      ),
    );
    assert.ok(INVALID_IMPORT_INPUTS.length >= 15);
  });
});

/**
 * History of an import that sees two status changes (SUBMITTED → IN_PROGRESS → COMPLETED) and no
 * milestones, however many Describe calls it makes: started + first task (4), two patches (the
 * API task queue from the worker and the identity-tagged job name: each its marker and the SDK's
 * TemporalChangeVersion upsert, 4) and the worker's local-activity answer naming the queue (1),
 * start activity (3) + task (3), upsert of id/status (1), then per status change a wait activity
 * (3) + task (3) + status upsert (1), and the completion (1): 17 + 7 × 2 = 31.
 */
const HISTORY_EVENTS_TWO_STATUS_CHANGES = 31;
