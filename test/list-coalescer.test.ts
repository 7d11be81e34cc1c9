// One List per data store instead of one Describe per job (issue 9, item 2): N imports waiting on
// one data store, polled at once through the real SDK client against the emulator over HTTP, with
// the emulator's own call counters.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateFHIRDatastoreCommand, StartFHIRImportJobCommand } from '@aws-sdk/client-healthlake';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import {
  createHealthLakeActivities,
  createImportListCoalescer,
  healthLakeImportApi,
  type AwaitImportJobArgs,
  type ImportJobSnapshot,
} from '../activities';
import { generateFhirData, writeFhirDataToS3 } from '../emulator/fhir/generate';
import { ensureBucket } from '../emulator/s3';
import { startLocalHealthLake, waitForDatastore, type LocalHealthLake } from '../emulator/testing';
import type { ImportJobOwner } from '../activities/list-coalescer';
import type { HealthLakeJobEvent } from '../workflows/job-events';
import { ZERO_COUNTS } from '../workflows/poll-policy';
import { DEFAULT_POLL_POLICY, type ImportJobStatus } from '../workflows/types';
import { waitFor } from './helpers/wait-for';

const BUCKET = 'coalesce-tests';
const N = 12;
let local: LocalHealthLake;
let datastoreId: string;
let jobIds: string[];

before(async () => {
  local = await startLocalHealthLake({ quotas: { describeList: { ratePerSecond: 1_000, burst: 1_000 } } });
  await ensureBucket(local.s3, BUCKET);
  await writeFhirDataToS3(generateFhirData({ patients: 2, seed: 3 }), local.s3, `s3://${BUCKET}/in/`);
  const created = await local.healthLake.send(
    new CreateFHIRDatastoreCommand({ DatastoreName: 'coalesce', DatastoreTypeVersion: 'R4' }),
  );
  datastoreId = created.DatastoreId!;
  await waitForDatastore(local.healthLake, datastoreId);
  // N jobs on one store: every one held where it is (the first running, the rest QUEUED behind it).
  jobIds = [];
  for (let i = 0; i < N; i++) {
    const started = await local.healthLake.send(
      new StartFHIRImportJobCommand({
        DatastoreId: datastoreId,
        JobName: `coalesce-${i}`,
        InputDataConfig: { S3Uri: `s3://${BUCKET}/in/` },
        JobOutputDataConfig: { S3Configuration: { S3Uri: `s3://${BUCKET}/out/${i}`, KmsKeyId: 'alias/k' } },
        DataAccessRoleArn: 'arn:aws:iam::123456789012:role/HealthLakeImport',
      }),
    );
    jobIds.push(started.JobId!);
    local.emulator.jobs.hang(started.JobId!);
  }
});
after(async () => {
  for (const id of jobIds ?? []) local?.emulator.jobs.release(id);
  await local?.stop();
});

function statusOf(jobId: string): ImportJobStatus {
  return local.emulator.jobs.list().find((j) => j.jobId === jobId)!.status as ImportJobStatus;
}

function argsFor(jobId: string): AwaitImportJobArgs {
  const status = statusOf(jobId);
  return {
    datastoreId,
    jobId,
    knownStatus: status,
    knownMilestone: 0,
    progressDueAtMs: null,
    pollPolicy: { ...DEFAULT_POLL_POLICY, jitter: 0 },
    firstDelayMs: 0,
    lastProgress: { datastoreId, jobId, status, counts: ZERO_COUNTS, describeCalls: 0 },
  };
}

/** One attempt of each wait, all at once; the BENIGN failure (job unchanged) or the failure. */
async function pollAll(act: ReturnType<typeof createHealthLakeActivities>, ids: string[]) {
  return Promise.all(
    ids.map(async (jobId) => {
      const env = new MockActivityEnvironment({ attempt: 1 }, { logger: new DefaultLogger('ERROR') });
      try {
        await env.run(act.awaitImportJobChange, argsFor(jobId));
        return 'returned';
      } catch (err) {
        assert.ok(err instanceof ApplicationFailure);
        return err.type ?? 'untyped';
      }
    }),
  );
}

function calls(): { list: number; describe: number } {
  const counters = local.emulator.counters();
  return {
    list: counters.ListFHIRImportJobs?.calls ?? 0,
    describe: counters.DescribeFHIRImportJob?.calls ?? 0,
  };
}

describe('List coalescing (one List per data store)', () => {
  it(`${N} waits on one data store polled at once: 1 List, 0 Describe (without it: ${N} Describes)`, async () => {
    const api = healthLakeImportApi(local.healthLake);
    local.emulator.resetCounters();
    const plain = await pollAll(createHealthLakeActivities({ healthLake: api }), jobIds);
    assert.deepEqual(plain, Array<string>(N).fill('ImportJobStillRunning'));
    assert.deepEqual(calls(), { list: 0, describe: N });

    const coalescer = createImportListCoalescer(api, { windowMs: 50, maxAgeMs: 60_000 });
    const act = createHealthLakeActivities({ healthLake: api, listCoalescer: coalescer });
    local.emulator.resetCounters();
    const first = await pollAll(act, jobIds);
    assert.deepEqual(first, Array<string>(N).fill('ImportJobStillRunning'));
    assert.deepEqual(calls(), { list: 1, describe: 0 });
    assert.deepEqual(coalescer.stats, {
      listCalls: 1,
      describeCalls: 0,
      answered: N,
      endsSignalled: 0,
      endSignalsToClosed: 0,
      endSignalsFailed: 0,
    });

    // Within maxAgeMs the List answers again without a call.
    const again = await pollAll(act, jobIds);
    assert.deepEqual(again, Array<string>(N).fill('ImportJobStillRunning'));
    assert.deepEqual(calls(), { list: 1, describe: 0 });
  });

  it('polls that arrive while the List is out join it: 1 List for both rounds (2 before)', async () => {
    const api = healthLakeImportApi(local.healthLake);
    // The real List over HTTP, held back until released (as a call budget holds it for its slot).
    let entered!: () => void;
    const listEntered = new Promise<void>((ok) => (entered = ok));
    let release!: () => void;
    const released = new Promise<void>((ok) => (release = ok));
    const held: typeof api = {
      ...api,
      listFHIRImportJobs: async (input, options) => {
        entered();
        await released;
        return api.listFHIRImportJobs(input, options);
      },
    };
    const coalescer = createImportListCoalescer(held, { windowMs: 20, maxAgeMs: 0 });
    const act = createHealthLakeActivities({ healthLake: held, listCoalescer: coalescer });
    local.emulator.resetCounters();
    const early = pollAll(act, jobIds.slice(0, 3));
    await listEntered;
    const late = pollAll(act, jobIds.slice(3, 6));
    await new Promise((ok) => setTimeout(ok, 100)); // past the window: without joining, a second List
    release();
    assert.deepEqual(await early, Array<string>(3).fill('ImportJobStillRunning'));
    assert.deepEqual(await late, Array<string>(3).fill('ImportJobStillRunning'));
    assert.deepEqual(calls(), { list: 1, describe: 0 });
    assert.deepEqual(coalescer.stats, {
      listCalls: 1,
      describeCalls: 0,
      answered: 6,
      endsSignalled: 0,
      endSignalsToClosed: 0,
      endSignalsFailed: 0,
    });
  });

  it('a job the List did not return is described; a status change returns to the workflow', async () => {
    const api = healthLakeImportApi(local.healthLake);
    const coalescer = createImportListCoalescer(api, { windowMs: 50, maxAgeMs: 0 });
    const act = createHealthLakeActivities({ healthLake: api, listCoalescer: coalescer });
    local.emulator.resetCounters();
    const unknownJob = 'f'.repeat(32);
    const outcomes = await Promise.all([
      pollAll(act, jobIds.slice(0, 3)),
      (async () => {
        const env = new MockActivityEnvironment({ attempt: 1 }, { logger: new DefaultLogger('ERROR') });
        const args = { ...argsFor(jobIds[0]!), jobId: unknownJob, knownStatus: 'IN_PROGRESS' as const };
        try {
          await env.run(act.awaitImportJobChange, args);
          return 'returned';
        } catch (err) {
          return (err as ApplicationFailure).type;
        }
      })(),
    ]);
    assert.deepEqual(outcomes, [
      ['ImportJobStillRunning', 'ImportJobStillRunning', 'ImportJobStillRunning'],
      'ResourceNotFoundException',
    ]);
    assert.deepEqual(calls(), { list: 1, describe: 1 });

    // The workflow thinks job 1 is still SUBMITTED: the List shows otherwise and the wait returns.
    local.emulator.resetCounters();
    const env = new MockActivityEnvironment({ attempt: 1 }, { logger: new DefaultLogger('ERROR') });
    const stale = { ...argsFor(jobIds[1]!), knownStatus: 'SUBMITTED' as const };
    const snapshot = await env.run<[AwaitImportJobArgs], ImportJobSnapshot, typeof act.awaitImportJobChange>(
      act.awaitImportJobChange,
      stale,
    );
    assert.equal(snapshot.progress.status, statusOf(jobIds[1]!));
    assert.notEqual(snapshot.progress.status, 'SUBMITTED');
    assert.deepEqual(calls(), { list: 1, describe: 0 });
  });
  it('a List that shows an ended job tells its owner once; not the job it answers, not unknown jobs', async () => {
    const api = healthLakeImportApi(local.healthLake);
    const coalescer = createImportListCoalescer(api, { windowMs: 10, maxAgeMs: 0 });
    const told: HealthLakeJobEvent[] = [];
    const owner = (workflowId: string): ImportJobOwner => ({
      workflowId,
      notify: async (event) => void told.push(event),
    });
    // Owners of the running job (ends first) and of the next one, remembered through their polls.
    const [running, next, third] = [jobIds[0]!, jobIds[1]!, jobIds[2]!];
    await coalescer.describe(datastoreId, running, undefined, owner('import-running'));
    await coalescer.describe(datastoreId, next, undefined, owner('import-next'));
    local.emulator.jobs.release(running);
    await waitFor(
      () => statusOf(running),
      (status) => status === 'COMPLETED',
      'the running job to complete',
    );
    // A List made for the third job's poll shows the first one ended: its import is told.
    await coalescer.describe(datastoreId, third);
    assert.deepEqual(told, [
      {
        datastoreId,
        jobId: running,
        status: 'COMPLETED',
        eventId: `list:${running}:COMPLETED`,
        time: told[0]!.time,
      },
    ]);
    const ended = local.emulator.jobs.list().find((j) => j.jobId === running)!;
    assert.equal(Date.parse(told[0]!.time), ended.endTimeMs);
    // Once per job: the next List shows it ended again and tells nobody.
    await coalescer.describe(datastoreId, third);
    assert.equal(told.length, 1);

    // A job whose own poll the List answers is not told (its wait returns the end itself).
    local.emulator.jobs.release(next);
    await waitFor(
      () => statusOf(next),
      (status) => status === 'COMPLETED',
      'the next job to complete',
    );
    const seen = await coalescer.describe(datastoreId, next, undefined, owner('import-next'));
    assert.equal(seen.JobStatus, 'COMPLETED');
    await coalescer.describe(datastoreId, third);
    assert.equal(told.length, 1);
    await new Promise((ok) => setImmediate(ok)); // the notify promises have settled
    assert.deepEqual(
      { signalled: coalescer.stats.endsSignalled, failed: coalescer.stats.endSignalsFailed },
      { signalled: 1, failed: 0 },
    );
  });
});
