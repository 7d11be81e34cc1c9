// Acceptance tests of fhirExportWorkflow on real parts: a Temporal dev server, the worker pair,
// the HealthLake emulator over HTTP through the real SDK client, and moto S3.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { listObjects, readObjectLines } from '../emulator/s3';
import type { fhirExportWorkflow } from '../workflows/export';
import type { FhirExportInput, FhirExportResult } from '../workflows/export-types';
import type { fhirImportWorkflow } from '../workflows/import';
import {
  BUCKET,
  FAST_POLL,
  KMS,
  ROLE,
  startImportTestStack,
  uniqueName,
  type ImportTestStack,
} from './helpers/import-env';
import { waitFor } from './helpers/wait-for';

let stack: ImportTestStack;

before(async () => {
  stack = await startImportTestStack();
});
after(async () => {
  await stack?.stop();
});

function exportInput(
  datastoreId: string,
  prefix: string,
  extra: Partial<FhirExportInput> = {},
): FhirExportInput {
  return {
    datastoreId,
    outputS3Uri: `s3://${BUCKET}/exports/${prefix}`,
    kmsKeyId: KMS,
    dataAccessRoleArn: ROLE,
    pollPolicy: FAST_POLL,
    ...extra,
  };
}

/** Runs an export on a fresh worker pair (with S3 for the output count). */
async function runExport(
  label: string,
  input: FhirExportInput,
  during?: () => Promise<void>,
): Promise<{ result?: FhirExportResult; failure?: ApplicationFailure }> {
  const taskQueue = uniqueName(label);
  const worker = await stack.worker(taskQueue, { s3: stack.local.s3 });
  return worker.runUntil(
    (async () => {
      const handle = await stack.temporal.env.client.workflow.start<typeof fhirExportWorkflow>(
        'fhirExportWorkflow',
        {
          taskQueue,
          workflowId: taskQueue,
          args: [input],
        },
      );
      await during?.();
      try {
        return { result: await handle.result() };
      } catch (err) {
        assert.ok(err instanceof WorkflowFailedError, String(err));
        assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
        return { failure: err.cause };
      }
    })(),
  );
}

function exportJobsOf(datastoreId: string) {
  return stack.local.emulator.jobs
    .list()
    .filter((job) => job.kind === 'export' && job.datastoreId === datastoreId);
}

describe('fhirExportWorkflow on the emulator', () => {
  it('import → export round trip: every imported resource is in the output, counts per type exact', async () => {
    const datastoreId = await stack.newDatastore('round-trip');
    const data = await stack.land('round-trip', 4);
    const importQueue = uniqueName('round-trip-import');
    const importWorker = await stack.worker(importQueue);
    const imported = await importWorker.runUntil(
      stack.temporal.env.client.workflow.execute<typeof fhirImportWorkflow>('fhirImportWorkflow', {
        taskQueue: importQueue,
        workflowId: importQueue,
        args: [stack.input(datastoreId, 'round-trip')],
      }),
    );
    assert.equal(imported.status, 'COMPLETED');
    assert.equal(imported.progress.counts.resourcesImported, data.counts.resources);

    stack.local.emulator.resetCounters();
    const { result } = await runExport('round-trip-export', exportInput(datastoreId, 'round-trip'));
    assert.ok(result);
    const [job] = exportJobsOf(datastoreId);
    assert.equal(exportJobsOf(datastoreId).length, 1);
    assert.equal(result.jobId, job?.jobId);
    assert.equal(result.status, 'COMPLETED');
    const folder = `s3://${BUCKET}/exports/round-trip/${datastoreId}-FHIR_EXPORT-${result.jobId}/`;
    assert.equal(result.outputFolderS3Uri, folder);
    assert.equal(result.submitTime, new Date(job!.submitTimeMs).toISOString());
    assert.equal(result.endTime, new Date(job!.endTimeMs!).toISOString());
    assert.equal(result.durationMs, job!.endTimeMs! - job!.submitTimeMs);
    // Every Describe the emulator answered is counted (1 after the start is not needed: a new job).
    assert.equal(result.describeCalls, stack.local.emulator.counters().DescribeFHIRExportJob?.calls);
    assert.equal(stack.local.emulator.counters().StartFHIRExportJob?.calls, 1);

    // Counts per resource type: exactly what was imported.
    const output = result.output!;
    assert.deepEqual(
      Object.fromEntries(Object.entries(output.byType).map(([type, c]) => [type, c.resources])),
      Object.fromEntries(Object.entries(data.counts.byType).sort(([a], [b]) => a.localeCompare(b))),
    );
    assert.equal(output.resources, data.counts.resources);
    assert.equal(output.files, Object.keys(data.counts.byType).length);

    // Every imported resource (type and id) appears in the output, and nothing else.
    const landed = data.files
      .flatMap((f) => f.content.split('\n'))
      .filter((line) => line !== '')
      .map((line) => {
        const r = JSON.parse(line) as { resourceType: string; id: string };
        return `${r.resourceType}/${r.id}`;
      })
      .sort();
    const exported: string[] = [];
    const objects = await listObjects(
      stack.local.s3,
      BUCKET,
      `exports/round-trip/${datastoreId}-FHIR_EXPORT-${result.jobId}/`,
    );
    for (const object of objects)
      for await (const line of readObjectLines(stack.local.s3, BUCKET, object.key)) {
        if (line === '') continue;
        const r = JSON.parse(line) as { resourceType: string; id: string };
        exported.push(`${r.resourceType}/${r.id}`);
      }
    assert.equal(exported.length, data.counts.resources);
    assert.deepEqual(exported.sort(), landed);
    assert.equal(
      output.bytes,
      objects.reduce((sum, o) => sum + o.sizeBytes, 0),
    );
  });

  it('a caller retrying with the same workflow id gets the same export job; countOutput false skips the count', async () => {
    const datastoreId = await stack.newDatastore('export-same-id');
    await stack.land('export-same-id', 1);
    const taskQueue = uniqueName('export-same-id');
    const worker = await stack.worker(taskQueue, { s3: stack.local.s3 });
    const client = stack.temporal.env.client;
    const options = {
      taskQueue,
      workflowId: taskQueue,
      args: [exportInput(datastoreId, 'same-id', { countOutput: false })] as [FhirExportInput],
      workflowIdConflictPolicy: 'USE_EXISTING' as const,
    };
    const [a, b] = await worker.runUntil(
      (async () => {
        const first = await client.workflow.start<typeof fhirExportWorkflow>('fhirExportWorkflow', options);
        const second = await client.workflow.start<typeof fhirExportWorkflow>('fhirExportWorkflow', options);
        return [await first.result(), await second.result()];
      })(),
    );
    assert.deepEqual(a, b);
    assert.equal(exportJobsOf(datastoreId).length, 1);
    assert.equal(a.output, undefined);
  });

  it('export FAILED → HealthLakeExportFailed with the service message', async () => {
    const datastoreId = await stack.newDatastore('export-failed');
    // An export started elsewhere holds the data store's export lane: it is hung (at its first
    // checkpoint, after a 2 s queue delay that leaves ample time to hang it), so the workflow's
    // export stays QUEUED behind it, and a queued job fails at once.
    stack.local.emulator.updateSettings({ speed: { queueDelayMs: 2_000 } });
    const blocker = await stack.healthLake.startFHIRExportJob({
      DatastoreId: datastoreId,
      OutputDataConfig: { S3Configuration: { S3Uri: `s3://${BUCKET}/exports/blocker`, KmsKeyId: KMS } },
      DataAccessRoleArn: ROLE,
    });
    assert.equal(stack.local.emulator.jobs.hang(blocker.JobId!), true);
    stack.local.emulator.updateSettings({ speed: { queueDelayMs: 20 } });
    try {
      const { failure } = await runExport('export-failed', exportInput(datastoreId, 'failed'), async () => {
        const queued = await waitFor(
          () => exportJobsOf(datastoreId).find((job) => job.jobId !== blocker.JobId),
          (job) => job?.status === 'QUEUED',
          'the queued export job',
        );
        assert.equal(
          stack.local.emulator.jobs.fail(queued!.jobId, 'Output bucket export-tests is not writable'),
          true,
        );
      });
      assert.ok(failure);
      const jobId = exportJobsOf(datastoreId).find((job) => job.jobId !== blocker.JobId)!.jobId;
      assert.equal(failure.type, 'HealthLakeExportFailed');
      assert.equal(failure.message, `export job ${jobId} FAILED: Output bucket export-tests is not writable`);
      assert.equal(failure.nonRetryable, true);
    } finally {
      stack.local.emulator.jobs.fail(blocker.JobId!, 'test over');
    }
  });

  it('a workflow cancel stops the wait: ExportWaitCancelled names the still-queued job', async () => {
    const datastoreId = await stack.newDatastore('export-cancel');
    stack.local.emulator.updateSettings({ speed: { queueDelayMs: 2_000 } });
    const blocker = await stack.healthLake.startFHIRExportJob({
      DatastoreId: datastoreId,
      OutputDataConfig: { S3Configuration: { S3Uri: `s3://${BUCKET}/exports/blocker2`, KmsKeyId: KMS } },
      DataAccessRoleArn: ROLE,
    });
    assert.equal(stack.local.emulator.jobs.hang(blocker.JobId!), true);
    stack.local.emulator.updateSettings({ speed: { queueDelayMs: 20 } });
    const taskQueue = uniqueName('export-cancel');
    const worker = await stack.worker(taskQueue, { s3: stack.local.s3 });
    try {
      const failure = await worker.runUntil(
        (async () => {
          const handle = await stack.temporal.env.client.workflow.start<typeof fhirExportWorkflow>(
            'fhirExportWorkflow',
            { taskQueue, workflowId: taskQueue, args: [exportInput(datastoreId, 'cancel')] },
          );
          // Cancel once the workflow knows its job is QUEUED (the progress query shows it).
          await waitFor(
            () => handle.query<{ status: string }>('progress'),
            (view) => view.status === 'QUEUED',
            'the export to be QUEUED',
          );
          await handle.cancel();
          const err = await handle.result().then(
            () => undefined,
            (e: unknown) => e,
          );
          assert.ok(err instanceof WorkflowFailedError, String(err));
          return err.cause as ApplicationFailure;
        })(),
      );
      const job = exportJobsOf(datastoreId).find((j) => j.jobId !== blocker.JobId)!;
      assert.equal(failure.type, 'ExportWaitCancelled');
      assert.equal(
        failure.message,
        `workflow cancelled while export job ${job.jobId} was QUEUED; the job keeps running in HealthLake`,
      );
      assert.equal(job.status, 'QUEUED');
    } finally {
      stack.local.emulator.jobs.fail(blocker.JobId!, 'test over');
    }
  });

  it('history stays bounded: 19 events for a job described 200+ times', async () => {
    const datastoreId = await stack.newDatastore('export-history');
    // The workflow's own job is held SUBMITTED (hung inside a 2 s queue delay), then failed.
    stack.local.emulator.updateSettings({ speed: { queueDelayMs: 2_000 } });
    stack.local.emulator.resetCounters();
    const taskQueue = uniqueName('export-history');
    const worker = await stack.worker(taskQueue, { s3: stack.local.s3 });
    try {
      const { failure, events, describeCalls } = await worker.runUntil(
        (async () => {
          const handle = await stack.temporal.env.client.workflow.start<typeof fhirExportWorkflow>(
            'fhirExportWorkflow',
            {
              taskQueue,
              workflowId: taskQueue,
              args: [exportInput(datastoreId, 'history', { pollPolicy: { ...FAST_POLL, maxDelayMs: 20 } })],
            },
          );
          const job = await waitFor(
            () => exportJobsOf(datastoreId)[0],
            (j) => j !== undefined,
            'the export job',
          );
          assert.equal(stack.local.emulator.jobs.hang(job!.jobId), true);
          stack.local.emulator.updateSettings({ speed: { queueDelayMs: 20 } });
          await waitFor(
            () => stack.local.emulator.counters().DescribeFHIRExportJob?.calls ?? 0,
            (calls) => calls >= 200,
            '200 Describe calls',
          );
          assert.equal(stack.local.emulator.jobs.fail(job!.jobId, 'held, then failed'), true);
          const err = await handle.result().then(
            () => undefined,
            (e: unknown) => e,
          );
          assert.ok(err instanceof WorkflowFailedError);
          const history = await handle.fetchHistory();
          return {
            failure: err.cause as ApplicationFailure,
            events: history.events?.length ?? 0,
            describeCalls: stack.local.emulator.counters().DescribeFHIRExportJob?.calls ?? 0,
          };
        })(),
      );
      assert.equal(failure.type, 'HealthLakeExportFailed');
      assert.ok(describeCalls >= 200, String(describeCalls));
      // Started (1) + 2 workflow tasks (6) + start activity (3) + search attributes at the start
      // and at FAILED (2) + one wait activity (3) + last workflow task (3) + failed (1): not one
      // event per Describe (the polls are attempts of that one activity).
      assert.equal(events, 19);
    } finally {
      stack.local.emulator.updateSettings({ speed: { queueDelayMs: 20 } });
    }
  });

  it('a missing data store fails ResourceNotFoundException with the service message; bad input names the field', async () => {
    const missing = await runExport(
      'export-missing',
      exportInput('0123456789abcdef0123456789abcdef', 'missing'),
    );
    assert.equal(missing.failure?.type, 'ResourceNotFoundException');
    // The lookup before the start (ListFHIRExportJobs) is the first call to meet the missing store.
    assert.equal(
      missing.failure?.message,
      'ListFHIRExportJobs failed with ResourceNotFoundException: Data store 0123456789abcdef0123456789abcdef does not exist in account 123456789012 (us-east-1)',
    );
    assert.equal(missing.failure?.nonRetryable, true);
    const bad = await runExport('export-bad', {
      ...exportInput('ds', 'bad'),
      outputS3Uri: 's3:/nope',
      countOutput: 'yes' as unknown as boolean,
    });
    assert.equal(bad.failure?.type, 'InvalidFhirExportInput');
    assert.equal(
      bad.failure?.message,
      'invalid FhirExportInput: input.outputS3Uri "s3:/nope" must match s3://<bucket>/<prefix> (bucket: 3-63 lowercase letters, digits, dots, hyphens); input.countOutput (string) must be a boolean',
    );
  });
});
