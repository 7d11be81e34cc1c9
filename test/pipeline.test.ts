// The whole chain on real parts — Temporal dev server, real workers, moto S3, the HealthLake emulator
// through the real SDK client: landing → import → downstream with exact counts; retries and replays
// start no second import or downstream workflow; the gate serialises two pipelines FIFO; a holder
// whose worker is killed mid-import does not deadlock the gate.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  JobStatus,
  CreateFHIRDatastoreCommand,
  DescribeFHIRDatastoreCommand,
  HealthLakeClient,
} from '@aws-sdk/client-healthlake';
import type { S3Client } from '@aws-sdk/client-s3';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  RetryState,
} from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { startEmulator, type EmulatorHandle, type JobSummary } from '../emulator';
import { generateFhirData, writeFhirDataToDir, type GeneratedFhirData } from '../emulator/fhir/generate';
import { createS3Client, ensureBucket, LOCAL_S3_CREDENTIALS, putObjectText } from '../emulator/s3';
import { startS3Server, type S3ServerHandle } from '../emulator/s3-server';
import type { VerifyAndExportResult, verifyAndExportWorkflow } from '../examples/verify-and-export';
import {
  classifyExportStatus,
  createVerifyAndExportActivities,
  type ExportStatusOutcome,
} from '../examples/verify-and-export-activities';
import { ownLandingWorkflow } from '../examples/own-landing';
import { createExampleWorkers } from '../examples/worker';
import { createLocalTestEnv, type LocalTestEnv } from '../worker/dev-server';
import { gateStateQuery, gateWorkflowId, type GateState } from '../workflows/gate-types';
import {
  fhirLandingStartOptions,
  type FhirLandingInput,
  type FhirLandingResult,
} from '../workflows/landing-types';
import {
  FHIR_IMPORT_HANDOVER_WORKFLOW_TYPE,
  fhirHandoverSignalWithStartOptions,
  type FhirImportHandoff,
} from '../workflows/pipeline-types';
import {
  EXTERNAL_WORKFLOW_NOT_FOUND,
  isExternalWorkflowNotFound,
  type FhirPipelineOutcome,
  type fhirImportHandoverWorkflow,
} from '../workflows/pipeline';
import { fhirLandingWorkflow } from '../workflows/landing';
import { importSearchAttributes, type FhirImportResult } from '../workflows/types';
import { createPipelineActivities } from '../activities/pipeline';
import { readLandingManifest } from '../activities/landing';
import { isLandingManifestRef } from '../workflows/manifest';
import {
  notifyReceiverWorkflow,
  stopReceivingSignal,
  typedFailureWorkflow,
} from './fixtures/pipeline-workflows';
import { quietTemporalRuntime } from './helpers/runtime';
import { waitFor } from './helpers/wait-for';

quietTemporalRuntime();

const BUCKET = 'pipeline-test';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/PipelineTest';
const KMS_KEY_ID = 'alias/pipeline-test';
const LEVEL = 'structure-only';
/** The emulator's import speed while a test needs a job to stay running for a while, MB/s. */
const SLOW_MB_PER_SECOND = 0.1;
const FAST_POLL = {
  initialDelayMs: 50,
  minDelayMs: 50,
  maxDelayMs: 200,
  queuedDelayMs: 100,
  attemptTimeoutMs: 2_000,
} as const;

async function countExecutions(client: Client, query: string): Promise<number> {
  let count = 0;
  for await (const _ of client.workflow.list({ query })) count += 1;
  return count;
}

describe('pipeline: landing → import → downstream on real parts', () => {
  let local: LocalTestEnv;
  let client: Client;
  let s3Server: S3ServerHandle;
  let emulator: EmulatorHandle;
  let s3: S3Client;
  let healthLake: HealthLakeClient;
  let bundle: WorkflowBundleWithSourceMap;
  let workers: Worker[] = [];
  let running: Promise<unknown>;
  let data: GeneratedFhirData;
  let dataDir: string;
  const taskQueue = `pipeline-${process.pid}-${Date.now()}`;
  let seq = 0;

  before(async () => {
    [local, s3Server] = await Promise.all([
      createLocalTestEnv({ searchAttributes: importSearchAttributes }),
      startS3Server(),
    ]);
    client = local.env.client;
    emulator = await startEmulator({ s3Endpoint: s3Server.endpoint, preset: 'fast' });
    s3 = createS3Client({ endpoint: s3Server.endpoint });
    healthLake = new HealthLakeClient({
      endpoint: emulator.url,
      region: emulator.region,
      credentials: { ...LOCAL_S3_CREDENTIALS },
    });
    await ensureBucket(s3, BUCKET);
    bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/pipeline-workflows'),
      logger: new DefaultLogger('WARN'),
    });
    workers = await createExampleWorkers({
      connection: local.env.nativeConnection,
      taskQueue,
      s3,
      healthLake,
      workflowBundle: bundle,
    });
    running = Promise.all(workers.map((w) => w.run()));

    const probe = generateFhirData({ patients: 12, seed: 5, maxFileBytes: 40_000 });
    data = generateFhirData({
      patients: 12,
      seed: 5,
      maxFileBytes: 40_000,
      invalidRate: 4 / probe.counts.resources,
    });
    dataDir = mkdtempSync(join(tmpdir(), 'thl-pipeline-data-'));
    await writeFhirDataToDir(data, dataDir);
  });

  after(async () => {
    for (const worker of workers) worker.shutdown();
    await running;
    await emulator?.stop();
    s3?.destroy();
    healthLake?.destroy();
    await Promise.allSettled([s3Server?.stop(), local?.teardown()]);
  });

  async function createDatastore(): Promise<string> {
    const created = await healthLake.send(new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4' }));
    const datastoreId = created.DatastoreId ?? '';
    await waitFor(
      () => healthLake.send(new DescribeFHIRDatastoreCommand({ DatastoreId: datastoreId })),
      (d) => d.DatastoreProperties?.DatastoreStatus === 'ACTIVE',
      'data store ACTIVE',
    );
    return datastoreId;
  }

  const importJobs = (datastoreId: string): JobSummary[] =>
    emulator.jobs.list().filter((j) => j.kind === 'import' && j.datastoreId === datastoreId);
  const exportJobs = (datastoreId: string): JobSummary[] =>
    emulator.jobs.list().filter((j) => j.kind === 'export' && j.datastoreId === datastoreId);

  function pipelineInput(
    datastoreId: string,
    key: string,
    extra: Partial<FhirLandingInput> = {},
  ): FhirLandingInput {
    return {
      source: { kind: 'directory', path: dataDir },
      import: {
        datastoreId,
        inputS3Uri: `s3://${BUCKET}/${key}/input/`,
        outputS3Uri: `s3://${BUCKET}/${key}/output/`,
        kmsKeyId: KMS_KEY_ID,
        dataAccessRoleArn: ROLE_ARN,
        validationLevel: LEVEL,
        reconciliation: 'strict',
        pollPolicy: FAST_POLL,
      },
      importWorkflowId: `${key}-import`,
      gate: { settings: { holderCheckIntervalMs: 200 } },
      ...extra,
    };
  }

  const expectedRejected = () => data.counts.invalidByLevel[LEVEL];
  const expectedImported = () => data.counts.resources - expectedRejected();

  it('lands, imports and hands on with exact counts in the manifest, the result and the downstream input', async () => {
    assert.equal(expectedRejected(), 4);
    const datastoreId = await createDatastore();
    const key = `${taskQueue}-chain`;
    const receiver = await client.workflow.start(notifyReceiverWorkflow, {
      taskQueue,
      workflowId: `${key}-receiver`,
    });
    const input = pipelineInput(datastoreId, key, {
      then: [
        {
          workflowType: 'verifyAndExportWorkflow',
          workflowId: `${key}-verify`,
          context: {
            exportS3Uri: `s3://${BUCKET}/${key}/export/`,
            kmsKeyId: KMS_KEY_ID,
            dataAccessRoleArn: ROLE_ARN,
            pollIntervalMs: 50,
          },
        },
      ],
      // A listener that does not exist is skipped: the import has succeeded.
      notify: [{ workflowId: receiver.workflowId }, { workflowId: `${key}-no-such-listener` }],
    });
    // Started as user code would, with the public start options (UI summary and details).
    const result: FhirLandingResult = await client.workflow.execute(
      fhirLandingWorkflow,
      fhirLandingStartOptions({ workflowId: key, taskQueue, input }),
    );

    assert.equal(result.manifest.s3Uri, `s3://${BUCKET}/${key}/input/`);
    assert.equal(result.manifest.totalObjects, data.counts.files);
    assert.equal(result.manifest.totalBytes, data.counts.bytes);
    assert.equal(result.manifest.totalLines, data.counts.resources);
    // Only a reference and the totals come back; the object list is read from S3.
    assert.ok(isLandingManifestRef(result.manifest));
    assert.equal(result.manifest.manifestS3Uri, `s3://${BUCKET}/${key}/_manifests/input.json`);
    const stored = await readLandingManifest(s3, result.manifest);
    assert.deepEqual(
      stored.objects.map((o) => [o.key, o.lines, o.sizeBytes]),
      [...data.files]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((f) => [`${key}/input/${f.name}`, f.lines, f.bytes]),
    );

    const { importResult } = result;
    assert.equal(result.importWorkflowId, `${key}-import`);
    assert.equal(importResult.status, 'COMPLETED_WITH_ERRORS');
    assert.equal(importResult.datastoreId, datastoreId);
    assert.equal(importResult.progress.counts.scannedFiles, data.counts.files);
    assert.equal(importResult.progress.counts.resourcesScanned, data.counts.resources);
    assert.equal(importResult.progress.counts.resourcesImported, expectedImported());
    assert.equal(importResult.progress.counts.resourcesWithCustomerError, 4);
    assert.deepEqual(importResult.reconciliation?.mismatches, []);
    assert.deepEqual(result.downstream, [
      { workflowId: `${key}-verify`, workflowType: 'verifyAndExportWorkflow', outcome: 'started' },
    ]);
    assert.deepEqual(result.notified, [receiver.workflowId]);
    // Import and downstream show as the pipeline's children in the UI.
    for (const childId of [`${key}-import`, `${key}-verify`]) {
      const { parentExecution } = await client.workflow.getHandle(childId).describe();
      assert.equal(parentExecution?.workflowId, key);
    }
    // Every workflow of the pipeline has a static summary and details in the UI.
    const landing = await client.workflow.getHandle(key).describe();
    assert.equal(
      await landing.staticSummary(),
      `HealthLake pipeline: land a folder on the landing worker, then import into ${datastoreId}`,
    );
    assert.equal(
      await landing.staticDetails(),
      [
        `**HealthLake pipeline** into data store \`${datastoreId}\``,
        '',
        '- first: land a folder on the landing worker',
        `- import: \`s3://${BUCKET}/${key}/input/\` → results in \`s3://${BUCKET}/${key}/output/\``,
        '- data store gate: on',
        `- then start: verifyAndExportWorkflow \`${key}-verify\``,
        `- then signal: \`${receiver.workflowId}\`, \`${key}-no-such-listener\``,
      ].join('\n'),
    );
    const importChild = await client.workflow.getHandle(`${key}-import`).describe();
    assert.equal(await importChild.staticSummary(), `HealthLake import into ${datastoreId} (new job)`);
    const verifyChild = await client.workflow.getHandle(`${key}-verify`).describe();
    assert.equal(await verifyChild.staticSummary(), `after FHIR import ${importResult.jobId}`);
    assert.equal(
      await verifyChild.staticDetails(),
      [
        `Started by pipeline \`${key}\` when its HealthLake import ended.`,
        '',
        `- import workflow: \`${key}-import\``,
        `- job: \`${importResult.jobId}\` into data store \`${datastoreId}\``,
        '- job status: COMPLETED_WITH_ERRORS',
      ].join('\n'),
    );
    const gate = await client.workflow.getHandle(gateWorkflowId(datastoreId)).describe();
    assert.equal(await gate.staticSummary(), `HealthLake gate for data store ${datastoreId}`);
    assert.match((await gate.staticDetails()) ?? '', /^\*\*HealthLake gate\*\* for data store `/);

    const verified: VerifyAndExportResult = await client.workflow
      .getHandle<typeof verifyAndExportWorkflow>(`${key}-verify`)
      .result();
    assert.deepEqual(verified, {
      handoffId: `${key}-import/${importResult.jobId}`,
      linesLanded: data.counts.resources,
      resourcesImported: expectedImported(),
      resourcesWithCustomerError: 4,
      failureLines: 4,
      exportJobId: exportJobs(datastoreId)[0]?.jobId,
      exportStatus: 'COMPLETED',
      exportedResources: expectedImported(),
      // One file per resource type (all far below the emulator's 64 MiB split).
      exportFiles: Object.values(data.counts.byType).filter((n) => n > 0).length,
    });

    await receiver.signal(stopReceivingSignal);
    const handoffs: FhirImportHandoff[] = await receiver.result();
    assert.deepEqual(
      handoffs.map((h) => [h.handoffId, h.pipelineWorkflowId, h.importResult.jobId, h.manifest?.totalLines]),
      [[`${key}-import/${importResult.jobId}`, key, importResult.jobId, data.counts.resources]],
    );
    assert.equal(importJobs(datastoreId).length, 1);
    assert.equal(exportJobs(datastoreId).length, 1);

    // Replaying the pipeline's and the import's histories against the same code: no nondeterminism.
    for (const workflowId of [key, `${key}-import`, `${key}-verify`]) {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
    }

    // A retried pipeline (same id, new run): same import, same job, downstream found already started.
    const again: FhirLandingResult = await client.workflow.execute(fhirLandingWorkflow, {
      taskQueue,
      workflowId: key,
      args: [input],
    });
    assert.equal(again.importResult.jobId, importResult.jobId);
    assert.deepEqual(again.manifest, result.manifest);
    assert.deepEqual(again.downstream, [
      { workflowId: `${key}-verify`, workflowType: 'verifyAndExportWorkflow', outcome: 'already-started' },
    ]);
    assert.equal(importJobs(datastoreId).length, 1);
    assert.equal(exportJobs(datastoreId).length, 1);
    assert.equal(await countExecutions(client, `WorkflowId = '${key}-import'`), 1);
    assert.equal(await countExecutions(client, `WorkflowId = '${key}-verify'`), 1);
    assert.equal(await countExecutions(client, `WorkflowId = '${key}'`), 2);
  });

  it('hands a batch landed elsewhere to the import through signal-with-start, once', async () => {
    const datastoreId = await createDatastore();
    const key = `${taskQueue}-handover`;
    // Land with the landing workflow of another "service" and no import: reuse our landing activity.
    const landed: FhirLandingResult = await client.workflow.execute(fhirLandingWorkflow, {
      taskQueue,
      workflowId: `${key}-landing`,
      args: [pipelineInput(datastoreId, key)],
    });
    const manifest = landed.manifest;
    const batchKey = `${key}-batch`;
    const handover = {
      import: { ...pipelineInput(datastoreId, `${key}-2`).import, inputS3Uri: manifest.s3Uri, manifest },
    };
    for (let i = 0; i < 2; i += 1) {
      await client.workflow.signalWithStart(
        FHIR_IMPORT_HANDOVER_WORKFLOW_TYPE,
        fhirHandoverSignalWithStartOptions({ batchKey, taskQueue, handover }),
      );
    }
    const outcome: FhirPipelineOutcome = await client.workflow
      .getHandle<typeof fhirImportHandoverWorkflow>(`fhir-handover-${batchKey}`)
      .result();
    assert.equal(outcome.importWorkflowId, `fhir-import-fhir-handover-${batchKey}`);
    const handoverRun = await client.workflow.getHandle(`fhir-handover-${batchKey}`).describe();
    assert.equal(
      await handoverRun.staticSummary(),
      `HealthLake pipeline: hand-over of ${manifest.totalObjects} landed files, then import into ${datastoreId}`,
    );
    assert.match((await handoverRun.staticDetails()) ?? '', /^- then start: none$/m);
    assert.equal(outcome.importResult.progress.counts.resourcesImported, expectedImported());
    assert.deepEqual(outcome.importResult.reconciliation?.mismatches, []);
    // One import for the landing pipeline, one for the hand-over: the second signal started nothing.
    assert.equal(importJobs(datastoreId).length, 2);

    // A batch whose manifest names another prefix than the import reads fails before any import.
    const wrong = { import: { ...handover.import, inputS3Uri: `s3://${BUCKET}/elsewhere/` } };
    await client.workflow.signalWithStart(
      FHIR_IMPORT_HANDOVER_WORKFLOW_TYPE,
      fhirHandoverSignalWithStartOptions({ batchKey: `${batchKey}-wrong`, taskQueue, handover: wrong }),
    );
    await assert.rejects(
      client.workflow.getHandle(`fhir-handover-${batchKey}-wrong`).result(),
      (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.ok(err.cause instanceof ApplicationFailure);
        assert.equal(err.cause.type, 'InvalidFhirPipelineInput');
        assert.equal(
          err.cause.message,
          `import.manifest.s3Uri "${manifest.s3Uri}" must name the prefix the import reads, import.inputS3Uri "s3://${BUCKET}/elsewhere/"`,
        );
        return true;
      },
    );
    assert.equal(importJobs(datastoreId).length, 2);
  });

  it("runs the import as a child of the user's own landing workflow with the manifest it built; strict reconciliation fails a mismatch", async () => {
    const datastoreId = await createDatastore();
    const key = `${taskQueue}-own`;
    const landedObjects = [];
    for (const file of [...data.files].sort((a, b) => a.name.localeCompare(b.name))) {
      const objectKey = `${key}/input/${file.name}`;
      await putObjectText(s3, BUCKET, objectKey, file.content);
      landedObjects.push({
        key: objectKey,
        sizeBytes: file.bytes,
        sha256: createHash('sha256').update(file.content).digest('hex'),
        lines: file.lines,
      });
    }
    const own = {
      datastoreId,
      inputS3Uri: `s3://${BUCKET}/${key}/input/`,
      outputS3Uri: `s3://${BUCKET}/${key}/output/`,
      kmsKeyId: KMS_KEY_ID,
      dataAccessRoleArn: ROLE_ARN,
      pollPolicy: FAST_POLL,
    };
    const outcome = await client.workflow.execute(ownLandingWorkflow, {
      taskQueue,
      workflowId: key,
      args: [{ ...own, batchId: `${key}-ok`, landedObjects }],
    });
    assert.equal(outcome.importWorkflowId, `fhir-import-${key}-ok`);
    assert.equal(outcome.importResult.progress.counts.resourcesImported, expectedImported());
    assert.deepEqual(outcome.importResult.reconciliation?.mismatches, []);
    const child = await client.workflow.getHandle(outcome.importWorkflowId).describe();
    assert.equal(child.parentExecution?.workflowId, key);

    // The caller's manifest claims one more line than was landed: the strict import fails.
    const [first, ...rest] = landedObjects;
    assert.ok(first);
    await assert.rejects(
      client.workflow.execute(ownLandingWorkflow, {
        taskQueue,
        workflowId: `${key}-mismatch`,
        args: [
          {
            ...own,
            batchId: `${key}-mismatch`,
            landedObjects: [{ ...first, lines: first.lines + 1 }, ...rest],
          },
        ],
      }),
      (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.ok(err.cause instanceof ChildWorkflowFailure);
        assert.ok(err.cause.cause instanceof ApplicationFailure);
        assert.equal(err.cause.cause.type, 'HealthLakeImportReconciliationMismatch');
        assert.equal(
          err.cause.cause.message,
          `import does not reconcile with the landing manifest: resources scanned ${data.counts.resources} != lines landed ${data.counts.resources + 1}; ` +
            `resources imported ${expectedImported()} + with customer error 4 = ${data.counts.resources} != lines landed ${data.counts.resources + 1}`,
        );
        return true;
      },
    );
  });

  it('a landing that no retry can fix (missing bucket, HTTP 403) fails the pipeline on attempt 1', async () => {
    const http = createServer((_req, res) => res.writeHead(403).end());
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const address = http.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const cases: Array<[string, FhirLandingInput, string]> = [
      [
        'bucket',
        pipelineInput('unused', `${taskQueue}-nobucket`, {
          import: { ...pipelineInput('unused', 'x').import, inputS3Uri: 's3://no-such-pipeline-bucket/in/' },
        }),
        'NoSuchBucket',
      ],
      [
        'http',
        pipelineInput('unused', `${taskQueue}-http403`, {
          source: { kind: 'urls', urls: [`${base}/Patient.ndjson?X-Amz-Signature=secret`] },
        }),
        'LandingSourceHttpError',
      ],
    ];
    try {
      for (const [name, input, type] of cases) {
        const workflowId = `${taskQueue}-landing-fails-${name}`;
        const handle = await client.workflow.start(fhirLandingWorkflow, {
          taskQueue,
          workflowId,
          args: [input],
        });
        await assert.rejects(handle.result(), (err: unknown) => {
          assert.ok(err instanceof WorkflowFailedError, String(err));
          assert.ok(err.cause instanceof ActivityFailure, String(err.cause));
          assert.equal(err.cause.retryState, RetryState.NON_RETRYABLE_FAILURE);
          assert.ok(err.cause.cause instanceof ApplicationFailure, String(err.cause.cause));
          assert.deepEqual([err.cause.cause.type, err.cause.cause.nonRetryable], [type, true]);
          return true;
        });
        const { events } = await handle.fetchHistory();
        const attempts = (events ?? []).flatMap((e) =>
          e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : [],
        );
        assert.deepEqual(attempts, [1], name);
      }
    } finally {
      http.close();
    }
  });

  it(
    'awaitWorkflowResult stops on cancellation while the attached workflow runs on, and keeps its failure type',
    { timeout: 20_000 },
    async () => {
      const activities = createPipelineActivities({ client, heartbeatIntervalMs: 100 });
      const running = await client.workflow.start(notifyReceiverWorkflow, {
        taskQueue,
        workflowId: `${taskQueue}-attach-running`,
      });
      const env = new MockActivityEnvironment();
      let beats = 0;
      env.on('heartbeat', () => {
        beats += 1;
        if (beats === 2) env.cancel();
      });
      await assert.rejects(
        env.run(() => activities.awaitWorkflowResult({ workflowId: running.workflowId })),
        (err: unknown) => err instanceof CancelledFailure,
      );
      assert.equal(beats, 2);
      assert.equal((await running.describe()).status.name, 'RUNNING');

      const failed = await client.workflow.start(typedFailureWorkflow, {
        taskQueue,
        workflowId: `${taskQueue}-attach-failed`,
        args: ['ValidationException'],
      });
      await running.terminate('test: attached workflow lost');
      const cases: Array<[string, string, string]> = [
        [failed.workflowId, 'ValidationException', 'input is wrong'],
        [running.workflowId, 'AttachedWorkflowFailed', 'test: attached workflow lost'],
      ];
      for (const [workflowId, type, reason] of cases) {
        await assert.rejects(
          new MockActivityEnvironment().run(() => activities.awaitWorkflowResult({ workflowId })),
          (err: unknown) => {
            assert.ok(err instanceof ApplicationFailure, String(err));
            assert.deepEqual(
              [err.type, err.nonRetryable, err.message],
              [type, true, `workflow ${workflowId} closed without a result: ${reason}`],
            );
            return true;
          },
        );
      }
    },
  );

  it('the example export fails non-retryably on a FAILED export and on an unknown data store', async () => {
    const datastoreId = await createDatastore();
    const activities = createVerifyAndExportActivities({ s3, healthLake });
    const exportInput = (id: string, identity: string) => ({
      identity: `${taskQueue}-${identity}`,
      datastoreId: id,
      outputS3Uri: `s3://${BUCKET}/${taskQueue}-export-fails/`,
      kmsKeyId: KMS_KEY_ID,
      dataAccessRoleArn: ROLE_ARN,
      pollIntervalMs: 50,
    });
    emulator.updateSettings({ speed: { megabytesPerSecond: SLOW_MB_PER_SECOND } });
    let failedJob: boolean | undefined;
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (details: { jobId: string }) => {
      failedJob ??= emulator.jobs.fail(details.jobId, 'test: export broke');
    });
    try {
      await assert.rejects(
        env.run(() => activities.exportDatastore(exportInput(datastoreId, 'failed'))),
        (err: unknown) => {
          assert.ok(err instanceof ApplicationFailure, String(err));
          assert.deepEqual([err.type, err.nonRetryable], ['ExportJobFailed', true]);
          assert.match(err.message, /^export job \S+ JobStatus "FAILED" is not a successful end$/);
          return true;
        },
      );
    } finally {
      emulator.updateSettings({ speed: { megabytesPerSecond: null } });
    }
    assert.equal(failedJob, true);
    await assert.rejects(
      new MockActivityEnvironment().run(() =>
        activities.exportDatastore(exportInput('0'.repeat(32), 'nostore')),
      ),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure, String(err));
        assert.deepEqual([err.type, err.nonRetryable], ['ResourceNotFoundException', true]);
        return true;
      },
    );
  });

  it('a pipeline terminated mid-import and run again attaches to the same import and job', async () => {
    const datastoreId = await createDatastore();
    const key = `${taskQueue}-rerun`;
    const input = pipelineInput(datastoreId, key);
    // Slow enough that the job is still running when the test holds it (a loaded CI must not let it finish first).
    emulator.updateSettings({ speed: { megabytesPerSecond: SLOW_MB_PER_SECOND } });
    await client.workflow.start(fhirLandingWorkflow, { taskQueue, workflowId: key, args: [input] });
    const [job] = await waitFor(
      () => importJobs(datastoreId),
      (jobs) => jobs.length === 1,
      'the import job',
    );
    assert.equal(emulator.jobs.hang(job?.jobId ?? ''), true, 'the job is still running when held');
    emulator.updateSettings({ speed: { megabytesPerSecond: null } });
    await client.workflow.getHandle(key).terminate('test: pipeline lost mid-import');
    const rerun = await client.workflow.start(fhirLandingWorkflow, {
      taskQueue,
      workflowId: key,
      args: [input],
    });
    emulator.jobs.release(job?.jobId ?? '');
    const result = await rerun.result();
    assert.equal(result.importResult.jobId, job?.jobId);
    assert.equal(result.importResult.progress.counts.resourcesImported, expectedImported());
    assert.equal(importJobs(datastoreId).length, 1);
    assert.equal(await countExecutions(client, `WorkflowId = '${key}-import'`), 1);
    assert.equal(await countExecutions(client, `WorkflowId = '${key}'`), 2);
  });

  for (const ending of ['terminated', 'cancelled'] as const) {
    it(`a pipeline ${ending} mid-import keeps the data store taken until its import closes`, async () => {
      const datastoreId = await createDatastore();
      emulator.updateSettings({ speed: { megabytesPerSecond: SLOW_MB_PER_SECOND } });
      try {
        seq += 1;
        const aId = `${taskQueue}-guard-a-${seq}`;
        const bId = `${taskQueue}-guard-b-${seq}`;
        const a = await client.workflow.start(fhirLandingWorkflow, {
          taskQueue,
          workflowId: aId,
          args: [pipelineInput(datastoreId, aId)],
        });
        const [aJob] = await waitFor(
          () => importJobs(datastoreId),
          (jobs) => jobs.length === 1,
          "A's job",
        );
        assert.equal(emulator.jobs.hang(aJob?.jobId ?? ''), true, "A's job is still running when held");
        const b = await client.workflow.start(fhirLandingWorkflow, {
          taskQueue,
          workflowId: bId,
          args: [pipelineInput(datastoreId, bId)],
        });
        const gate = () => client.workflow.getHandle(gateWorkflowId(datastoreId)).query(gateStateQuery);
        await waitFor(gate, (s) => s.queue.length === 1, 'B to queue');
        if (ending === 'terminated') {
          await a.terminate('test: pipeline lost mid-import');
        } else {
          await a.cancel();
          await assert.rejects(a.result(), (err: unknown) => err instanceof WorkflowFailedError);
        }
        // The gate has seen A release or close and now waits for A's import (its job is held running).
        const held = await waitFor(gate, (s) => s.awaitingGuard, "the gate to wait for A's import");
        assert.deepEqual(
          [
            held.holder?.holderWorkflowId,
            held.holder?.guardWorkflowId,
            held.queue.map((r) => r.holderWorkflowId),
          ],
          [aId, `${aId}-import`, [bId]],
        );
        assert.equal((await client.workflow.getHandle(`${aId}-import`).describe()).status.name, 'RUNNING');
        assert.equal(importJobs(datastoreId).length, 1);
        emulator.updateSettings({ speed: { megabytesPerSecond: null } });
        emulator.jobs.release(aJob?.jobId ?? '');

        const bResult = await b.result();
        const aImport = (await client.workflow.getHandle(`${aId}-import`).result()) as FhirImportResult;
        const jobs = importJobs(datastoreId).sort((x, y) => x.submitTimeMs - y.submitTimeMs);
        assert.deepEqual(
          jobs.map((j) => j.jobId),
          [aImport.jobId, bResult.importResult.jobId],
        );
        assert.ok((jobs[1]?.submitTimeMs ?? 0) >= (jobs[0]?.endTimeMs ?? Infinity), JSON.stringify(jobs));
        const final = await waitFor(gate, (s) => s.recentLeases.length === 2, 'both leases to end');
        assert.deepEqual(
          final.recentLeases.map((l) => [l.holderWorkflowId, l.end]),
          [
            [aId, ending === 'terminated' ? 'holder-closed' : 'released'],
            [bId, 'released'],
          ],
        );
      } finally {
        emulator.updateSettings({ speed: { megabytesPerSecond: null } });
      }
    });
  }

  it('serialises two pipelines on one data store through the gate, FIFO, both complete', async () => {
    const datastoreId = await createDatastore();
    emulator.updateSettings({ speed: { megabytesPerSecond: SLOW_MB_PER_SECOND } });
    try {
      seq += 1;
      const first = await client.workflow.start(fhirLandingWorkflow, {
        taskQueue,
        workflowId: `${taskQueue}-fifo-a-${seq}`,
        args: [pipelineInput(datastoreId, `${taskQueue}-fifo-a-${seq}`)],
      });
      const gate = () => client.workflow.getHandle(gateWorkflowId(datastoreId)).query(gateStateQuery);
      await waitFor(gate, (s) => s.holder?.label === `${first.workflowId}-import`, 'first to hold the gate');
      const second = await client.workflow.start(fhirLandingWorkflow, {
        taskQueue,
        workflowId: `${taskQueue}-fifo-b-${seq}`,
        args: [pipelineInput(datastoreId, `${taskQueue}-fifo-b-${seq}`)],
      });
      const queued: GateState = await waitFor(gate, (s) => s.queue.length === 1, 'second to queue');
      assert.equal(queued.queue[0]?.label, `${second.workflowId}-import`);
      // Hold the first job where it is: while it runs, the second import must not have a job.
      const [firstJob] = await waitFor(
        () => importJobs(datastoreId),
        (jobs) => jobs.length === 1,
        'the first job',
      );
      assert.equal(
        emulator.jobs.hang(firstJob?.jobId ?? ''),
        true,
        'the first job is still running when held',
      );
      assert.deepEqual(
        (await gate()).queue.map((r) => r.label),
        [`${second.workflowId}-import`],
      );
      assert.equal(importJobs(datastoreId).length, 1);
      emulator.updateSettings({ speed: { megabytesPerSecond: null } });
      emulator.jobs.release(firstJob?.jobId ?? '');

      const [a, b] = await Promise.all([first.result(), second.result()]);
      assert.equal(a?.importResult.progress.counts.resourcesImported, expectedImported());
      assert.equal(b?.importResult.progress.counts.resourcesImported, expectedImported());
      const jobs = importJobs(datastoreId).sort((x, y) => x.submitTimeMs - y.submitTimeMs);
      assert.deepEqual(
        jobs.map((j) => j.jobId),
        [a?.importResult.jobId, b?.importResult.jobId],
      );
      // Serialised: the second job was submitted only after the first had ended.
      assert.ok((jobs[1]?.submitTimeMs ?? 0) >= (jobs[0]?.endTimeMs ?? Infinity), JSON.stringify(jobs));
      const final = await waitFor(gate, (s) => s.recentLeases.length === 2, 'both leases to end');
      assert.deepEqual(
        final.recentLeases.map((l) => [l.holderWorkflowId, l.end]),
        [
          [first.workflowId, 'released'],
          [second.workflowId, 'released'],
        ],
      );
    } finally {
      emulator.updateSettings({ speed: { megabytesPerSecond: null } });
    }
  });

  it("does not deadlock the gate when the holder's worker is killed mid-import", async () => {
    const datastoreId = await createDatastore();
    const killQueue = `${taskQueue}-kill`;
    const bundlePath = join(mkdtempSync(join(tmpdir(), 'thl-bundle-')), 'workflows.js');
    writeFileSync(bundlePath, bundle.code);
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', require.resolve('./fixtures/pipeline-worker')],
      {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: local.server?.address ?? '',
          TASK_QUEUE: killQueue,
          S3_ENDPOINT: s3Server.endpoint,
          HEALTHLAKE_ENDPOINT: emulator.url,
          WORKFLOW_BUNDLE_PATH: bundlePath,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolveReady, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('READY')) resolveReady();
      });
      child.once('exit', (code) => reject(new Error(`worker process exited with ${code}`)));
    });

    emulator.updateSettings({ speed: { megabytesPerSecond: SLOW_MB_PER_SECOND } });
    const ids = [`${killQueue}-x`, `${killQueue}-y`];
    const handles = [];
    for (const id of ids) {
      handles.push(
        await client.workflow.start(fhirLandingWorkflow, {
          taskQueue: killQueue,
          workflowId: id,
          args: [pipelineInput(datastoreId, id)],
        }),
      );
      await waitFor(
        () => client.workflow.getHandle(gateWorkflowId(datastoreId)).query(gateStateQuery),
        (s) => [s.holder?.holderWorkflowId, ...s.queue.map((r) => r.holderWorkflowId)].includes(id),
        `${id} at the gate`,
      );
    }
    const job = await waitFor(
      () => importJobs(datastoreId),
      (jobs) => jobs.length === 1,
      'the first import job',
    );
    assert.equal(emulator.jobs.hang(job[0]?.jobId ?? ''), true, 'the first job is still running when held');
    emulator.updateSettings({ speed: { megabytesPerSecond: null } });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    emulator.jobs.release(job[0]?.jobId ?? '');

    const replacement = await createExampleWorkers({
      connection: local.env.nativeConnection,
      taskQueue: killQueue,
      s3,
      healthLake,
      workflowBundle: bundle,
    });
    const replacementRun = Promise.all(replacement.map((w) => w.run()));
    try {
      const results = await Promise.all(handles.map((h) => h.result()));
      assert.deepEqual(
        results.map((r) => r.importResult.progress.counts.resourcesImported),
        [expectedImported(), expectedImported()],
      );
      assert.equal(importJobs(datastoreId).length, 2);
      const gate = await waitFor(
        () => client.workflow.getHandle(gateWorkflowId(datastoreId)).query(gateStateQuery),
        (s) => s.recentLeases.length === 2,
        'both leases to end',
      );
      assert.deepEqual(
        gate.recentLeases.map((l) => [l.holderWorkflowId, l.end]),
        ids.map((id) => [id, 'released']),
      );
    } finally {
      for (const worker of replacement) worker.shutdown();
      await replacementRun;
    }
  });
});

describe('pipeline: pure helpers', () => {
  it('classifyExportStatus: every JobStatus member, and a missing or unknown status fails', () => {
    const table: Array<[string | undefined, ExportStatusOutcome]> = [
      [JobStatus.SUBMITTED, { kind: 'waiting' }],
      [JobStatus.QUEUED, { kind: 'waiting' }],
      [JobStatus.IN_PROGRESS, { kind: 'waiting' }],
      [JobStatus.CANCEL_SUBMITTED, { kind: 'waiting' }],
      [JobStatus.CANCEL_IN_PROGRESS, { kind: 'waiting' }],
      [JobStatus.COMPLETED, { kind: 'completed' }],
      [JobStatus.COMPLETED_WITH_ERRORS, { kind: 'completed' }],
      [JobStatus.FAILED, { kind: 'fail', type: 'ExportJobFailed' }],
      [JobStatus.CANCEL_COMPLETED, { kind: 'fail', type: 'ExportJobCancelled' }],
      [JobStatus.CANCEL_FAILED, { kind: 'fail', type: 'ExportJobCancelled' }],
      ['PAUSED', { kind: 'fail', type: 'ExportJobStatusUnknown' }],
      [undefined, { kind: 'fail', type: 'ExportJobStatusUnknown' }],
    ];
    // The table covers every member the SDK knows.
    assert.deepEqual(
      Object.values(JobStatus).filter((status) => !table.some(([s]) => s === status)),
      [],
    );
    assert.deepEqual(
      table.map(([status]) => classifyExportStatus(status)),
      table.map(([, outcome]) => outcome),
    );
  });

  it('isExternalWorkflowNotFound: only the not-found signal failure is skipped', () => {
    const table: Array<[unknown, boolean]> = [
      [ApplicationFailure.create({ type: EXTERNAL_WORKFLOW_NOT_FOUND }), true],
      [ApplicationFailure.create({ type: 'SignalExternalWorkflowExecutionFailedCauseUnspecified' }), false],
      [ApplicationFailure.create({ type: 'SignalCountLimitExceeded' }), false],
      [new CancelledFailure('cancelled'), false],
      [new Error(EXTERNAL_WORKFLOW_NOT_FOUND), false],
      [undefined, false],
    ];
    assert.deepEqual(
      table.map(([err]) => isExternalWorkflowNotFound(err)),
      table.map(([, expected]) => expected),
    );
  });
});
