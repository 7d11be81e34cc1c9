// Records the replay corpus: runs each scenario of the library's workflows on real parts (a Temporal
// dev server, the worker pair, the HealthLake emulator over HTTP, moto S3) with the workflow code of
// this checkout, and writes each history to `test/replay/histories/<scenario>.<commit>.json`.
// Existing files are never replaced: each release adds its histories beside the older ones, and
// `test/replay.test.ts` replays them all against the current code.
//
//   npm run replay:record                       # every scenario, named by HEAD's short commit
//   npm run replay:record -- --only import-completed,gate-continue-as-new
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startFhirImport } from '../../client';
import { waitForImportJob } from '../../emulator/testing';
import type { DeleteFhirDatastoreInput, EnsureFhirDatastoreInput } from '../../workflows/datastore-types';
import type { FhirExportInput } from '../../workflows/export-types';
import { gateWorkflowId } from '../../workflows/gate-types';
import type { FhirLandingInput, FhirLandingResult } from '../../workflows/landing-types';
import type { FhirPipelineOutcome } from '../../workflows/pipeline';
import {
  FHIR_IMPORT_HANDOVER_WORKFLOW_TYPE,
  fhirHandoverSignalWithStartOptions,
} from '../../workflows/pipeline-types';
import { importJobName } from '../../workflows/import-input';
import { healthLakeJobEventSignal } from '../../workflows/job-events';
import {
  fhirImportWorkflowId,
  progressQuery,
  type FhirImportInput,
  type FhirImportResult,
} from '../../workflows/types';
import {
  BUCKET,
  FAST_POLL,
  KMS,
  ROLE,
  startImportTestStack,
  type ImportTestStack,
} from '../helpers/import-env';
import { manifestFor } from '../helpers/manifest';
import { waitFor } from '../helpers/wait-for';
import { HISTORIES_DIR, historyToJson, readCorpus, type RecordedHistory } from './corpus';

/** Repository root, for git and for relative paths in messages. */
const ROOT = join(__dirname, '..', '..');

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
}

interface Recorder {
  readonly stack: ImportTestStack;
  readonly taskQueue: string;
  /** Unique per recording run, so workflow ids never collide with an earlier run on the same server. */
  readonly runTag: string;
  save(
    scenario: string,
    workflowType: string,
    handle: Pick<WorkflowHandle, 'workflowId' | 'fetchHistory'>,
    runId: string,
    outcome: string,
  ): Promise<void>;
}

type Scenario = (r: Recorder) => Promise<void>;

async function settle(
  handle: WorkflowHandle,
): Promise<{ result?: FhirImportResult; failureType?: string; runId: string }> {
  const runId = (await handle.describe()).runId;
  try {
    return { result: (await handle.result()) as FhirImportResult, runId };
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
    assert.ok(
      err.cause instanceof ApplicationFailure,
      `expected ApplicationFailure, got ${String(err.cause)}`,
    );
    return { failureType: err.cause.type ?? 'untyped', runId };
  }
}

/** Starts an import the way callers do (the client helper), on its own data store and S3 prefix. */
async function startImport(r: Recorder, scenario: string, input: FhirImportInput) {
  return startFhirImport(r.stack.temporal.env.client, {
    callerKey: `replay-${scenario}-${r.runTag}`,
    taskQueue: r.taskQueue,
    input,
  });
}

/** Runs one import to its end and saves its history, checking it ended as the scenario says. */
async function importScenario(
  r: Recorder,
  scenario: string,
  input: FhirImportInput,
  expected: string,
  during?: (handle: WorkflowHandle) => Promise<void>,
): Promise<FhirImportResult | undefined> {
  const handle = await startImport(r, scenario, input);
  await during?.(handle);
  const { result, failureType, runId } = await settle(handle);
  const outcome = result ? result.status : `FAILED ${failureType}`;
  assert.equal(outcome, expected, `${scenario}: ended ${outcome}, not ${expected}`);
  await r.save(scenario, 'fhirImportWorkflow', handle, runId, result ? 'COMPLETED' : outcome);
  return result;
}

/** Runs a workflow other than the import to COMPLETED on the recorder's queue and saves its history. */
async function otherWorkflowScenario(
  r: Recorder,
  scenario: string,
  workflowType: string,
  input: unknown,
): Promise<unknown> {
  const handle = await r.stack.temporal.env.client.workflow.start(workflowType, {
    taskQueue: r.taskQueue,
    workflowId: `replay-${scenario}-${r.runTag}`,
    args: [input],
  });
  const result: unknown = await handle.result();
  await r.save(scenario, workflowType, handle, (await handle.describe()).runId, 'COMPLETED');
  return result;
}

function emulatorJobs(r: Recorder, datastoreId: string) {
  return r.stack.local.emulator.jobs
    .list()
    .filter((j) => j.kind === 'import' && j.datastoreId === datastoreId);
}

/** Waits for the data store's import job to run, then holds it IN_PROGRESS; returns its id. */
async function holdRunningJob(r: Recorder, datastoreId: string): Promise<string> {
  const job = await waitFor(
    () => emulatorJobs(r, datastoreId)[0],
    (j) => j?.status === 'IN_PROGRESS',
    `the job on ${datastoreId} to run`,
    { stepMs: 10 },
  );
  assert.equal(r.stack.local.emulator.jobs.hang(job!.jobId), true);
  return job!.jobId;
}

/** Waits until the workflow has seen IN_PROGRESS and scheduled its next wait (a mid-wait history). */
async function waitUntilMidWait(handle: WorkflowHandle): Promise<void> {
  await waitFor(
    () => handle.query(progressQuery),
    (p) => p.status === 'IN_PROGRESS',
    'the workflow to see IN_PROGRESS',
  );
  await waitFor(
    async () => (await handle.describe()).raw.pendingActivities ?? [],
    (pending) => pending.some((a) => a.activityType?.name === 'awaitImportJobChange'),
    'the wait activity to be pending',
  );
}

async function slowJobs<T>(r: Recorder, fn: () => Promise<T>): Promise<T> {
  r.stack.local.emulator.updateSettings({ speed: { resourcesPerSecond: 5 } });
  try {
    return await fn();
  } finally {
    r.stack.local.emulator.updateSettings({ speed: { resourcesPerSecond: null } });
  }
}

const GATE_SETTINGS = { holderCheckIntervalMs: 200, idleTimeoutMs: 1_000 } as const;

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  'import-completed': async (r) => {
    const ds = await r.stack.newDatastore('replay-completed');
    await r.stack.land('replay-completed', 2);
    await importScenario(r, 'import-completed', r.stack.input(ds, 'replay-completed'), 'COMPLETED');
  },

  'import-deadline-not-passed': async (r) => {
    const ds = await r.stack.newDatastore('replay-deadline-ok');
    await r.stack.land('replay-deadline-ok', 2);
    const deadline = new Date(Date.now() + 3_600_000).toISOString();
    await importScenario(
      r,
      'import-deadline-not-passed',
      r.stack.input(ds, 'replay-deadline-ok', { deadline }),
      'COMPLETED',
    );
  },

  'import-deadline-passed': async (r) => {
    const ds = await r.stack.newDatastore('replay-deadline');
    await r.stack.land('replay-deadline', 2);
    const deadline = new Date(Date.now() + 4_000).toISOString();
    let jobId = '';
    await slowJobs(r, () =>
      importScenario(
        r,
        'import-deadline-passed',
        r.stack.input(ds, 'replay-deadline', { deadline }),
        'FAILED HealthLakeImportDeadlineExceeded',
        async () => {
          jobId = await holdRunningJob(r, ds);
        },
      ),
    );
    r.stack.local.emulator.jobs.fail(jobId, 'recording cleanup');
  },

  'import-cancelled': async (r) => {
    const ds = await r.stack.newDatastore('replay-cancel');
    await r.stack.land('replay-cancel', 2);
    let jobId = '';
    await slowJobs(r, () =>
      importScenario(
        r,
        'import-cancelled',
        r.stack.input(ds, 'replay-cancel'),
        'FAILED ImportWaitCancelled',
        async (handle) => {
          jobId = await holdRunningJob(r, ds);
          await waitUntilMidWait(handle);
          await handle.cancel();
        },
      ),
    );
    r.stack.local.emulator.jobs.fail(jobId, 'recording cleanup');
  },

  'import-found-job': async (r) => {
    // What a crashed first attempt leaves behind: a job under the workflow's name and S3 locations,
    // already ended when the workflow looks it up (StartFHIRImportJob is never called).
    const ds = await r.stack.newDatastore('replay-found');
    await r.stack.land('replay-found', 2);
    const jobName = `replay-found-${r.runTag}`;
    // The HealthLake job name the workflow looks up: the readable part plus its identity tag.
    const workflowId = fhirImportWorkflowId(`replay-import-found-job-${r.runTag}`);
    const jobId = await r.stack.startJobDirectly(ds, 'replay-found', {
      jobName: importJobName(jobName, 'default', workflowId),
      validationLevel: 'strict',
    });
    await waitForImportJob(r.stack.local.healthLake, ds, jobId);
    const result = await importScenario(
      r,
      'import-found-job',
      r.stack.input(ds, 'replay-found', { jobName }),
      'COMPLETED',
    );
    assert.equal(result?.jobId, jobId);
    assert.equal(result?.describeCalls, 1);
  },

  'import-existing-job': async (r) => {
    const ds = await r.stack.newDatastore('replay-existing');
    await r.stack.land('replay-existing', 2);
    const existingJobId = await r.stack.startJobDirectly(ds, 'replay-existing');
    const result = await importScenario(
      r,
      'import-existing-job',
      r.stack.input(ds, 'replay-existing', { existingJobId }),
      'COMPLETED',
    );
    assert.equal(result?.jobId, existingJobId);
  },

  'import-completed-with-errors-manifest': async (r) => {
    const ds = await r.stack.newDatastore('replay-cwe');
    const data = await r.stack.land('replay-cwe', 2, 0.1);
    assert.ok(data.counts.invalidByLevel.strict > 0);
    const result = await importScenario(
      r,
      'import-completed-with-errors-manifest',
      r.stack.input(ds, 'replay-cwe', {
        manifest: manifestFor('replay-cwe', data),
        reconciliation: 'strict',
      }),
      'COMPLETED_WITH_ERRORS',
    );
    assert.deepEqual(result?.reconciliation?.mismatches, []);
  },

  'import-failed': async (r) => {
    // Nothing landed under the prefix: HealthLake fails the job.
    const ds = await r.stack.newDatastore('replay-failed');
    await importScenario(
      r,
      'import-failed',
      r.stack.input(ds, 'replay-nothing-landed'),
      'FAILED HealthLakeImportFailed',
    );
  },

  'import-woken-by-events': async (r) => {
    // The push path: polls 2 minutes apart, HealthLake's events signalled by hand (as the relay, or
    // the List coalescer for an ended job, sends them): In Progress turns polling into the safety
    // net, Completed wakes the wait, which describes once and finishes.
    const ds = await r.stack.newDatastore('replay-events');
    await r.stack.land('replay-events', 2);
    const slow = { initialDelayMs: 0, minDelayMs: 120_000, maxDelayMs: 120_000, queuedDelayMs: 120_000 };
    await slowJobs(r, () =>
      importScenario(
        r,
        'import-woken-by-events',
        r.stack.input(ds, 'replay-events', { pollPolicy: slow }),
        'COMPLETED',
        async (handle) => {
          const jobId = await holdRunningJob(r, ds);
          await waitUntilMidWait(handle);
          const event = (status: 'IN_PROGRESS' | 'COMPLETED') => ({
            datastoreId: ds,
            jobId,
            status,
            eventId: `replay-${status}-${r.runTag}`,
            time: new Date().toISOString(),
          });
          await handle.signal(healthLakeJobEventSignal, event('IN_PROGRESS'));
          await waitFor(
            async () => (await handle.query(progressQuery)).jobEvents?.received ?? 0,
            (received) => received === 1,
            'the In Progress event to be seen',
          );
          r.stack.local.emulator.jobs.release(jobId);
          await waitForImportJob(r.stack.local.healthLake, ds, jobId);
          await handle.signal(healthLakeJobEventSignal, event('COMPLETED'));
        },
      ),
    );
  },

  'import-running': async (r) => {
    // A partial history: what a worker running newer code meets when it picks up a running import.
    const ds = await r.stack.newDatastore('replay-running');
    await r.stack.land('replay-running', 2);
    await slowJobs(r, async () => {
      const handle = await startImport(r, 'import-running', r.stack.input(ds, 'replay-running'));
      const jobId = await holdRunningJob(r, ds);
      await waitUntilMidWait(handle);
      await r.save(
        'import-running',
        'fhirImportWorkflow',
        handle,
        (await handle.describe()).runId,
        'RUNNING',
      );
      await handle.terminate('recording cleanup');
      r.stack.local.emulator.jobs.fail(jobId, 'recording cleanup');
    });
  },

  'import-running-deadline': async (r) => {
    // The case: a running import with a deadline (its timer already in the history).
    const ds = await r.stack.newDatastore('replay-running-deadline');
    await r.stack.land('replay-running-deadline', 2);
    const deadline = new Date(Date.now() + 3_600_000).toISOString();
    await slowJobs(r, async () => {
      const handle = await startImport(
        r,
        'import-running-deadline',
        r.stack.input(ds, 'replay-running-deadline', { deadline }),
      );
      const jobId = await holdRunningJob(r, ds);
      await waitUntilMidWait(handle);
      const runId = (await handle.describe()).runId;
      await r.save('import-running-deadline', 'fhirImportWorkflow', handle, runId, 'RUNNING');
      await handle.terminate('recording cleanup');
      r.stack.local.emulator.jobs.fail(jobId, 'recording cleanup');
    });
  },

  'landing-completed': async (r) => {
    // Landing from another S3 prefix (no host paths in the history), the gate, the import child,
    // a downstream child (type not registered: its start is all the landing waits for) and a
    // notify target that does not exist (logged and skipped).
    const client = r.stack.temporal.env.client;
    const ds = await r.stack.newDatastore('replay-landing');
    const data = await r.stack.land('replay-landing-src', 2);
    const workflowId = `replay-landing-${r.runTag}`;
    const downstreamId = `replay-landing-downstream-${r.runTag}`;
    const input: FhirLandingInput = {
      source: { kind: 's3', s3Uri: `s3://${BUCKET}/replay-landing-src/` },
      import: r.stack.input(ds, 'replay-landing-dst', { reconciliation: 'strict' }),
      gate: { settings: GATE_SETTINGS },
      then: [
        {
          workflowType: 'replayDownstreamNotRegistered',
          workflowId: downstreamId,
          taskQueue: `${r.taskQueue}-nobody-polls`,
        },
      ],
      notify: [{ workflowId: `replay-no-such-listener-${r.runTag}` }],
    };
    const handle = await client.workflow.start('fhirLandingWorkflow', {
      taskQueue: r.taskQueue,
      workflowId,
      args: [input],
    });
    const result = (await handle.result()) as FhirLandingResult;
    assert.equal(result.importResult.status, 'COMPLETED');
    assert.equal(result.importResult.progress.counts.resourcesImported, data.counts.resources);
    assert.deepEqual(
      result.downstream.map((d) => d.outcome),
      ['started'],
    );
    assert.deepEqual(result.notified, []);
    await client.workflow.getHandle(downstreamId).terminate('recording cleanup');
    const runId = (await handle.describe()).runId;
    await r.save('landing-completed', 'fhirLandingWorkflow', handle, runId, 'COMPLETED');
    const child = client.workflow.getHandle(result.importWorkflowId);
    await r.save(
      'import-child-of-landing',
      'fhirImportWorkflow',
      child,
      (await child.describe()).runId,
      'COMPLETED',
    );
    const gate = client.workflow.getHandle(gateWorkflowId(ds));
    await gate.result();
    await r.save(
      'gate-one-lease',
      'healthLakeGateWorkflow',
      gate,
      (await gate.describe()).runId,
      'COMPLETED',
    );
  },

  'export-completed': async (r) => {
    // An export of a store that holds two landed patients' resources, counted per type afterwards.
    const ds = await r.stack.newDatastore('replay-export');
    await r.stack.land('replay-export', 2);
    const imported = await startImport(r, 'export-source', r.stack.input(ds, 'replay-export'));
    assert.equal((await imported.result()).status, 'COMPLETED');
    await otherWorkflowScenario(r, 'export-completed', 'fhirExportWorkflow', {
      datastoreId: ds,
      outputS3Uri: `s3://${BUCKET}/exports/replay-${r.runTag}`,
      kmsKeyId: KMS,
      dataAccessRoleArn: ROLE,
      pollPolicy: FAST_POLL,
    } satisfies FhirExportInput);
  },

  'datastore-ensure-and-delete': async (r) => {
    // A store created and waited ACTIVE, then deleted and waited DELETED: the lifecycle's two waits.
    const created = await otherWorkflowScenario(
      r,
      'datastore-ensure-created',
      'ensureFhirDatastoreWorkflow',
      {
        datastoreName: `replay-store-${r.runTag}`,
        tags: { team: 'fhir' },
        pollPolicy: FAST_POLL,
      } satisfies EnsureFhirDatastoreInput,
    );
    const { datastoreId } = created as { datastoreId: string };
    await otherWorkflowScenario(r, 'datastore-delete', 'deleteFhirDatastoreWorkflow', {
      datastoreId,
      pollPolicy: FAST_POLL,
    } satisfies DeleteFhirDatastoreInput);
  },

  'pipeline-and-gate-continue-as-new': async (r) => {
    // Two hand-overs (workflows/pipeline.ts) for one data store, sent together: the gate grants
    // FIFO and continues as new after every lease, carrying holder and queue (3 runs).
    const client = r.stack.temporal.env.client;
    const ds = await r.stack.newDatastore('replay-pipeline');
    const handles = [];
    for (const n of [1, 2]) {
      const prefix = `replay-pipeline-${n}`;
      const data = await r.stack.land(prefix, 2);
      handles.push(
        await client.workflow.signalWithStart(
          FHIR_IMPORT_HANDOVER_WORKFLOW_TYPE,
          fhirHandoverSignalWithStartOptions({
            batchKey: `replay-${n}-${r.runTag}`,
            taskQueue: r.taskQueue,
            handover: {
              import: {
                ...r.stack.input(ds, prefix),
                manifest: manifestFor(prefix, data),
                reconciliation: 'strict',
              },
              gate: { settings: { ...GATE_SETTINGS, maxLeasesPerRun: 1 } },
            },
          }),
        ),
      );
    }
    for (const [i, handle] of handles.entries()) {
      const outcome = (await handle.result()) as FhirPipelineOutcome;
      assert.equal(outcome.importResult.status, 'COMPLETED');
      const runId = (await handle.describe()).runId;
      await r.save(
        `pipeline-handover-${i + 1}`,
        FHIR_IMPORT_HANDOVER_WORKFLOW_TYPE,
        handle,
        runId,
        'COMPLETED',
      );
    }
    const gateId = gateWorkflowId(ds);
    const gate = client.workflow.getHandle(gateId);
    await gate.result();
    const runs = await waitFor(
      async () => {
        const found = [];
        for await (const execution of client.workflow.list({ query: `WorkflowId = '${gateId}'` })) {
          found.push(execution);
        }
        return found.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
      },
      (found) => found.length === 3 && found.every((e) => e.status.name !== 'RUNNING'),
      'the gate runs to be listed',
    );
    assert.deepEqual(
      runs.map((e) => e.status.name),
      ['CONTINUED_AS_NEW', 'CONTINUED_AS_NEW', 'COMPLETED'],
    );
    for (const [i, run] of runs.entries()) {
      const handle = client.workflow.getHandle(gateId, run.runId);
      await r.save(
        `gate-continue-as-new-run${i + 1}`,
        'healthLakeGateWorkflow',
        handle,
        run.runId,
        run.status.name,
      );
    }
  },
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, 'allow-dirty': { type: 'boolean', default: false } },
  });
  const only = values.only?.split(',').map((s) => s.trim());
  for (const name of only ?? []) {
    if (!(name in SCENARIOS))
      throw new Error(`--only ${name}: no such scenario (known: ${Object.keys(SCENARIOS).join(', ')})`);
  }
  // Histories are named after the commit whose workflow code made them: uncommitted workflow code
  // has no name, so it records nothing unless asked to.
  const dirty = git('status', '--porcelain', '--', 'workflows');
  if (dirty !== '' && !values['allow-dirty']) {
    throw new Error(
      `workflows/ has uncommitted changes; commit them first (or pass --allow-dirty):\n${dirty}`,
    );
  }
  const sourceCommit = `${git('rev-parse', '--short=7', 'HEAD')}${dirty === '' ? '' : '-dirty'}`;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  // A scenario already recorded from the same workflow code (no change to workflows/*.ts since
  // its commit) adds nothing.
  const sameWorkflowCode = (commit: string): boolean => {
    if (dirty !== '') return false;
    try {
      execFileSync('git', ['diff', '--quiet', commit, 'HEAD', '--', 'workflows/*.ts'], {
        cwd: ROOT,
        stdio: 'pipe',
      });
      return true;
    } catch {
      return false; // differs, or a commit this clone does not have
    }
  };
  const recordedFrom = (scenario: string): string | undefined =>
    readCorpus().find(
      ({ recorded }) => recorded.scenario === scenario && sameWorkflowCode(recorded.sourceCommit),
    )?.file;

  const stack = await startImportTestStack();
  const runTag = Date.now().toString(36);
  const taskQueue = `replay-record-${runTag}`;
  const worker = await stack.worker(taskQueue, { s3: stack.local.s3 });
  const written: string[] = [];
  const recorder: Recorder = {
    stack,
    taskQueue,
    runTag,
    async save(scenario, workflowType, handle, runId, outcome) {
      const file = join(HISTORIES_DIR, `${scenario}.${sourceCommit}.json`);
      if (existsSync(file)) {
        console.warn(`kept ${relative(ROOT, file)} (exists; recordings are never replaced)`);
        return;
      }
      const same = recordedFrom(scenario);
      if (same !== undefined) {
        console.warn(`kept ${same} (recorded from the same workflows/ code as ${sourceCommit})`);
        return;
      }
      const history = await stack.temporal.env.client.workflow
        .getHandle(handle.workflowId, runId)
        .fetchHistory();
      const recorded: RecordedHistory = {
        scenario,
        sourceCommit,
        workflowType,
        workflowId: handle.workflowId,
        runId,
        outcome,
        recordedAt: new Date().toISOString(),
        history: historyToJson(history),
      };
      // Failure stack traces name the recording checkout's absolute path: keep it out of the repo.
      writeFileSync(file, `${JSON.stringify(recorded, null, 1).replaceAll(ROOT, '<repo>')}\n`);
      written.push(file);
      console.warn(`wrote ${relative(ROOT, file)} (${recorded.history.events.length} events, ${outcome})`);
    },
  };
  try {
    await worker.runUntil(
      (async () => {
        for (const [name, scenario] of Object.entries(SCENARIOS)) {
          if (only && !only.includes(name)) continue;
          console.warn(`scenario ${name}`);
          await scenario(recorder);
        }
      })(),
    );
  } finally {
    await stack.stop();
  }
  console.warn(`${written.length} histories written to ${relative(ROOT, HISTORIES_DIR)}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
