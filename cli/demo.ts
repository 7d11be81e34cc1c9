// `npm start`: the whole pipeline on embedded defaults. Starts a Temporal dev server with its Web UI,
// a local S3-compatible server (moto), the HealthLake emulator and a worker; creates a data store,
// generates a realistic data set, runs landing → import → verify-and-export with a live progress
// line, prints the result and the UI links, and stops everything it started (or, with --keep,
// leaves it running until Ctrl-C). State lives under .local/demo/, reused by the next run.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CreateFHIRDatastoreCommand,
  DescribeFHIRDatastoreCommand,
  HealthLakeClient,
} from '@aws-sdk/client-healthlake';
import type { S3Client } from '@aws-sdk/client-s3';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  bundleWorkflowCode,
  type Worker,
} from '@temporalio/worker';
import {
  createS3Client,
  ensureBucket,
  generateFhirData,
  LOCAL_S3_CREDENTIALS,
  startEmulator,
  startS3Server,
  writeFhirDataToDir,
  type EmulatorHandle,
  type GeneratedFhirCounts,
  type S3ServerHandle,
} from 'healthlake-emulator/testing';
import { readImportProgress } from '../client';
import { createExampleWorkers } from '../examples/worker';
import type { VerifyAndExportContext, verifyAndExportWorkflow } from '../examples/verify-and-export';
import { startTemporalDevServer, type TemporalDevServer } from '../worker/dev-server';
import type { FhirLandingInput, FhirLandingResult } from '../workflows/landing-types';
import { fhirLandingWorkflow, pipelineStatusQuery, type PipelineStatus } from '../workflows/landing';
import { gateWorkflowId } from '../workflows/gate-types';
import { importSearchAttributes } from '../workflows/types';
import type { Command } from './commands';
import { renderProgressLine } from './progress-line';

export { renderProgressLine };

/** Where the demo keeps its state (git-ignored). */
const DEMO_DIR = resolve(__dirname, '..', '.local', 'demo');
const TASK_QUEUE = 'healthlake-demo';
const BUCKET = 'demo-healthlake';
const DATASTORE_NAME = 'temporal-healthlake-demo';
const DATA_ACCESS_ROLE_ARN = 'arn:aws:iam::123456789012:role/HealthLakeDemoImport';
const KMS_KEY_ID = 'alias/healthlake-demo';
const DEFAULT_PATIENTS = 2_000;
const DATA_SEED = 42;
/** Broken lines in the data set (bad JSON, missing id, unknown type, wrong element types). */
const BROKEN_LINES = 6;
const MAX_FILE_BYTES = 4 * 1024 * 1024;
/**
 * The emulator's import speed: slow enough that the progress line visibly moves for ~15-25 s,
 * fast enough that the whole run stays around a minute.
 */
const IMPORT_MEGABYTES_PER_SECOND = 1;
/** The emulator's speed once the import is done, for the downstream export, MB/s. */
const EXPORT_MEGABYTES_PER_SECOND = 10;
const PROGRESS_REFRESH_MS = 250;
const RENDER_INTERVAL_MS = 250;
const LOG_INTERVAL_MS = 3_000;
const BYTES_PER_MB = 1_000_000;

interface DemoState {
  runs: number;
  datastoreId?: string;
}

function loadState(): DemoState {
  const file = join(DEMO_DIR, 'state.json');
  if (!existsSync(file)) return { runs: 0 };
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DemoState;
  } catch {
    return { runs: 0 };
  }
}

function saveState(state: DemoState): void {
  writeFileSync(join(DEMO_DIR, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Writes a line that replaces itself on a terminal, or a line every few seconds when piped. */
function createStatusLine(tty: boolean) {
  let lastLogged = 0;
  let last = '';
  return {
    update(text: string, force = false) {
      if (tty) {
        const width = process.stdout.columns || 120;
        process.stdout.write(`\r${text.slice(0, width - 1).padEnd(Math.min(width - 1, last.length))}`);
        last = text;
        return;
      }
      const now = Date.now();
      if (force || now - lastLogged >= LOG_INTERVAL_MS) {
        process.stdout.write(`${text}\n`);
        lastLogged = now;
      }
    },
    done() {
      if (tty && last) process.stdout.write('\n');
      last = '';
    },
  };
}

async function ensureDatastore(healthLake: HealthLakeClient, state: DemoState): Promise<string> {
  if (state.datastoreId) {
    try {
      const described = await healthLake.send(
        new DescribeFHIRDatastoreCommand({ DatastoreId: state.datastoreId }),
      );
      if (described.DatastoreProperties?.DatastoreStatus === 'ACTIVE') return state.datastoreId;
    } catch {
      // Gone (the emulator's data folder was removed): create a new one.
    }
  }
  const created = await healthLake.send(
    new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4', DatastoreName: DATASTORE_NAME }),
  );
  const datastoreId = created.DatastoreId ?? '';
  for (;;) {
    const described = await healthLake.send(new DescribeFHIRDatastoreCommand({ DatastoreId: datastoreId }));
    const status = described.DatastoreProperties?.DatastoreStatus;
    if (status === 'ACTIVE') return datastoreId;
    if (status !== 'CREATING') throw new Error(`data store ${datastoreId} ended ${String(status)}`);
    await sleep(100);
  }
}

/** Generates the data set once per (patients, seed) and reuses it on later runs. */
async function ensureDataset(
  patients: number,
): Promise<{ dir: string; counts: GeneratedFhirCounts; reused: boolean }> {
  const dir = join(DEMO_DIR, 'data', `patients-${patients}-seed-${DATA_SEED}`);
  const countsFile = join(dir, 'counts.json');
  if (existsSync(countsFile)) {
    return { dir, counts: JSON.parse(readFileSync(countsFile, 'utf8')) as GeneratedFhirCounts, reused: true };
  }
  const probe = generateFhirData({ patients, seed: DATA_SEED, maxFileBytes: MAX_FILE_BYTES });
  const data = generateFhirData({
    patients,
    seed: DATA_SEED,
    maxFileBytes: MAX_FILE_BYTES,
    invalidRate: BROKEN_LINES / probe.counts.resources,
  });
  mkdirSync(dir, { recursive: true });
  await writeFhirDataToDir(data, dir);
  writeFileSync(countsFile, `${JSON.stringify(data.counts, null, 2)}\n`);
  return { dir, counts: data.counts, reused: false };
}

interface Stack {
  temporal?: TemporalDevServer;
  s3Server?: S3ServerHandle;
  emulator?: EmulatorHandle;
  workers: Worker[];
  workerRuns: Promise<void>[];
  connection?: Connection;
  nativeConnection?: NativeConnection;
  s3?: S3Client;
  healthLake?: HealthLakeClient;
}

async function stopStack(stack: Stack): Promise<void> {
  for (const worker of stack.workers) {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  }
  await Promise.allSettled(stack.workerRuns);
  await stack.nativeConnection?.close().catch(() => undefined);
  await stack.connection?.close().catch(() => undefined);
  await stack.emulator?.stop().catch(() => undefined);
  stack.s3?.destroy();
  stack.healthLake?.destroy();
  await Promise.allSettled([stack.s3Server?.stop(), stack.temporal?.stop()]);
}

function uiLink(temporal: TemporalDevServer, workflowId: string): string {
  return `${temporal.uiUrl ?? ''}/namespaces/${temporal.namespace}/workflows/${encodeURIComponent(workflowId)}`;
}

/** A query that may not be answerable yet (the workflow is not started or has no worker yet). */
async function queryIfReady<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch {
    return undefined;
  }
}

/** Shows the pipeline's phase, then the import's progress, until the pipeline ends. */
async function followPipeline(
  client: Client,
  pipeline: WorkflowHandle<typeof fhirLandingWorkflow>,
  importWorkflowId: string,
  tty: boolean,
  signal: AbortSignal,
  onLanded: (landed: NonNullable<PipelineStatus['landed']>) => void,
): Promise<FhirLandingResult> {
  const line = createStatusLine(tty);
  const started = Date.now();
  let settled = false;
  const result = client
    .withAbortSignal(signal, () => pipeline.result())
    .finally(() => {
      settled = true;
    });
  // Observed below once the loop ends; until then a rejection (Ctrl-C) must not count as unhandled.
  result.catch(() => undefined);
  let lastPhase: PipelineStatus['phase'] | undefined;
  while (!settled && !signal.aborted) {
    const status = await queryIfReady(() => pipeline.query(pipelineStatusQuery));
    if (status && status.phase !== lastPhase) {
      if (lastPhase) line.done();
      if (lastPhase === 'landing' && status.landed) onLanded(status.landed);
      lastPhase = status.phase;
    }
    if (!status || status.phase === 'landing') {
      line.update(`landing FHIR NDJSON into S3 ... ${seconds(Date.now() - started)}`);
    } else if (status.phase === 'importing') {
      // Reads the wait activity's heartbeat (fresh to the last Describe) without adding history.
      const live = await queryIfReady(() => readImportProgress(client, importWorkflowId));
      const progress = live?.progress;
      line.update(
        progress
          ? renderProgressLine(progress, status.landed?.totalBytes)
          : `waiting for the data store's gate ... ${seconds(Date.now() - started)}`,
      );
    }
    await sleep(RENDER_INTERVAL_MS);
  }
  line.done();
  return result;
}

/** How long an interrupted run may take to unwind its calls before the services are stopped, in ms. */
const UNWIND_LIMIT_MS = 5_000;

export const demoCommand: Command = {
  summary: 'run the whole pipeline locally (landing -> import -> verify & export) with the Temporal UI',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        keep: { type: 'boolean', default: false },
        patients: { type: 'string', default: String(DEFAULT_PATIENTS) },
      },
    });
    const patients = Number(values.patients);
    if (!Number.isInteger(patients) || patients < 1) {
      console.error(`--patients "${values.patients}" must be a positive integer`);
      return 2;
    }
    const tty = Boolean(process.stdout.isTTY);
    const t0 = Date.now();
    const step = (text: string) => console.log(`  ${seconds(Date.now() - t0).padStart(6)}  ${text}`);
    mkdirSync(DEMO_DIR, { recursive: true });
    const state = loadState();
    state.runs += 1;
    const run = state.runs;
    Runtime.install({ logger: new DefaultLogger('ERROR') });

    const stack: Stack = { workers: [], workerRuns: [] };
    let finished = false;
    const stopping = new AbortController();
    const interrupt = new Promise<void>((resolveInterrupt) => {
      const onSignal = () => {
        // A second Ctrl-C while we clean up: the user wants out now.
        if (stopping.signal.aborted) process.exit(130);
        stopping.abort();
        console.log('\ninterrupted: stopping everything the demo started (Ctrl-C again to force)');
        resolveInterrupt();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });

    // Relative: the line is pasted into issues and READMEs, where a checkout path means nothing.
    console.log(
      `temporal-healthlake demo, run #${run} (state in ${relative(process.cwd(), DEMO_DIR) || '.'})`,
    );
    const main = async (): Promise<number> => {
      const [temporal, s3Server] = await Promise.all([
        startTemporalDevServer({
          ui: true,
          dbFilename: join(DEMO_DIR, 'temporal.db'),
          searchAttributes: importSearchAttributes,
        }),
        startS3Server(),
      ]);
      stack.temporal = temporal;
      stack.s3Server = s3Server;
      step(`Temporal dev server ${temporal.address}, Web UI ${temporal.uiUrl ?? ''}`);
      step(`S3-compatible server (moto) ${s3Server.endpoint}`);

      const emulator = await startEmulator({
        s3Endpoint: s3Server.endpoint,
        dataDir: join(DEMO_DIR, 'healthlake'),
        preset: 'fast',
        speed: { megabytesPerSecond: IMPORT_MEGABYTES_PER_SECOND, progressRefreshMs: PROGRESS_REFRESH_MS },
        onError: (message) => console.error(message),
      });
      stack.emulator = emulator;
      const healthLake = new HealthLakeClient({
        endpoint: emulator.url,
        region: emulator.region,
        credentials: { ...LOCAL_S3_CREDENTIALS },
      });
      stack.healthLake = healthLake;
      const s3 = createS3Client({ endpoint: s3Server.endpoint });
      stack.s3 = s3;
      step(`HealthLake emulator ${emulator.url}`);

      const datastoreId = await ensureDatastore(healthLake, state);
      const reusedStore = datastoreId === state.datastoreId;
      state.datastoreId = datastoreId;
      saveState(state);
      step(`data store ${datastoreId} (${reusedStore ? 'reused' : 'created'}, ACTIVE)`);

      const dataset = await ensureDataset(patients);
      step(
        `data set ${dataset.reused ? 'reused' : 'generated'}: ${patients} patients, ${dataset.counts.resources.toLocaleString('en-US')} resources ` +
          `(${dataset.counts.invalidLines} broken lines) in ${dataset.counts.files} files, ${(dataset.counts.bytes / BYTES_PER_MB).toFixed(1)} MB`,
      );
      await ensureBucket(s3, BUCKET);

      const connection = await Connection.connect({ address: temporal.address });
      stack.connection = connection;
      const client = new Client({ connection, namespace: temporal.namespace });
      const nativeConnection = await NativeConnection.connect({ address: temporal.address });
      stack.nativeConnection = nativeConnection;
      const workflowBundle = await bundleWorkflowCode({
        workflowsPath: require.resolve('../examples/workflows'),
        logger: new DefaultLogger('ERROR'),
      });
      const workers = await createExampleWorkers({
        connection: nativeConnection,
        namespace: temporal.namespace,
        taskQueue: TASK_QUEUE,
        s3,
        healthLake,
        workflowBundle,
      });
      stack.workers.push(...workers);
      stack.workerRuns.push(...workers.map((w) => w.run()));
      step(`worker on task queue "${TASK_QUEUE}"`);

      const runPrefix = `s3://${BUCKET}/runs/${run}`;
      const pipelineId = `demo-pipeline-${run}`;
      const downstreamId = `demo-verify-and-export-${run}`;
      const importWorkflowId = `demo-import-${run}`;
      const verifyContext: VerifyAndExportContext = {
        exportS3Uri: `${runPrefix}/export/`,
        kmsKeyId: KMS_KEY_ID,
        dataAccessRoleArn: DATA_ACCESS_ROLE_ARN,
        pollIntervalMs: 250,
      };
      const input: FhirLandingInput = {
        source: { kind: 'directory', path: dataset.dir },
        import: {
          datastoreId,
          inputS3Uri: `${runPrefix}/input/`,
          outputS3Uri: `${runPrefix}/output/`,
          kmsKeyId: KMS_KEY_ID,
          dataAccessRoleArn: DATA_ACCESS_ROLE_ARN,
          jobName: `demo-run-${run}`,
          completedWithErrors: { mode: 'fail-above-error-rate', maxErrorRate: 0.01 },
          reconciliation: 'strict',
          // About one Describe a second: a live bar without spending the account's 10 TPS budget.
          pollPolicy: {
            initialDelayMs: 500,
            minDelayMs: 1_000,
            maxDelayMs: 2_000,
            queuedDelayMs: 1_000,
            maxProgressMilestones: 20,
          },
        },
        importWorkflowId,
        then: [{ workflowType: 'verifyAndExportWorkflow', workflowId: downstreamId, context: verifyContext }],
        gate: { settings: { holderCheckIntervalMs: 1_000 } },
      };
      const pipeline = await client.workflow.start(fhirLandingWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: pipelineId,
        args: [input],
        staticSummary: `demo run #${run}: land ${dataset.counts.files} files, import, verify & export`,
      });
      step(`started pipeline ${pipelineId}: ${uiLink(temporal, pipelineId)}`);

      const outcome = await followPipeline(
        client,
        pipeline,
        importWorkflowId,
        tty,
        stopping.signal,
        (landed) =>
          step(
            `landed ${landed.totalObjects} objects, ${(landed.totalBytes / BYTES_PER_MB).toFixed(1)} MB, ` +
              `${landed.totalLines.toLocaleString('en-US')} lines (SHA-256 and line counts in the manifest); importing`,
          ),
      );
      const { importResult } = outcome;
      const counts = importResult.progress.counts;
      step(
        `import ${importResult.status}: job ${importResult.jobId}, ${counts.resourcesImported.toLocaleString('en-US')} imported, ` +
          `${counts.resourcesWithCustomerError} rejected (error rate ${(importResult.errorRate * 100).toFixed(3)}%), ` +
          `${importResult.describeCalls} Describe calls, job took ${seconds(importResult.durationMs)}`,
      );
      const mismatches = importResult.reconciliation?.mismatches ?? [];
      step(
        `reconciliation: ${mismatches.length === 0 ? 'files and resources match the landing manifest' : mismatches.join('; ')}`,
      );

      // The export reads the whole data store; at the import's demo pace it would take as long again.
      emulator.updateSettings({ speed: { megabytesPerSecond: EXPORT_MEGABYTES_PER_SECOND } });
      const line = createStatusLine(tty);
      line.update(`verifying the import and exporting the data store (${downstreamId}) ...`, true);
      const downstream = await client.withAbortSignal(stopping.signal, () =>
        client.workflow.getHandle<typeof verifyAndExportWorkflow>(downstreamId).result(),
      );
      line.done();
      step(
        `verify & export: output manifest matches (${downstream.resourcesImported.toLocaleString('en-US')} imported, ` +
          `${downstream.failureLines} FAILURE lines); export ${downstream.exportStatus}, ` +
          `${downstream.exportedResources.toLocaleString('en-US')} resources in ${downstream.exportFiles} files`,
      );
      console.log('\nTemporal Web UI:');
      console.log(`  pipeline          ${uiLink(temporal, pipelineId)}`);
      console.log(`  import            ${uiLink(temporal, importWorkflowId)}`);
      console.log(`  verify & export   ${uiLink(temporal, downstreamId)}`);
      console.log(`  data store gate   ${uiLink(temporal, gateWorkflowId(datastoreId))}`);
      console.log(`\ndone in ${seconds(Date.now() - t0)}`);
      finished = true;
      if (values.keep) {
        console.log('--keep: services stay up for the UI; press Ctrl-C to stop them.');
        await interrupt;
      }
      return 0;
    };

    const running = main();
    try {
      return await Promise.race([running, interrupt.then(() => (finished ? 0 : 130))]);
    } finally {
      if (stopping.signal.aborted) {
        // Let the run's aborted calls unwind before their connections close under them.
        await Promise.race([
          running.catch(() => undefined),
          new Promise((r) => setTimeout(r, UNWIND_LIMIT_MS).unref()),
        ]);
      }
      await stopStack(stack);
    }
  },
};
