// The shared polling engine on an export wait, with MockActivityEnvironment and a scripted
// HealthLake fake (the exact delay sequence and attempt-by-attempt counting cannot be shown on the
// emulator): one Describe per attempt, BENIGN retries with nextRetryDelay for long waits,
// heartbeats only at the start, exact Describe counts resumed from heartbeatDetails, errors
// classified as the import's are.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AccessDeniedException,
  ThrottlingException,
  type ExportJobProperties,
} from '@aws-sdk/client-healthlake';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createExportActivities, type AwaitExportJobArgs } from '../activities/export';
import type { HealthLakeExportApi } from '../activities/healthlake-api';
import type { StatusWaitHeartbeat } from '../activities/job-wait';
import { humanDelay } from '../activities/job-wait';
import type { ExportJobView } from '../workflows/export-types';
import { DEFAULT_POLL_POLICY, type PollPolicy } from '../workflows/types';

const quiet = { logger: new DefaultLogger('ERROR') };
const DATASTORE = 'ds0123456789abcdef0123456789abcd';
const JOB = 'job-1';
const T0 = Date.parse('2026-01-01T00:00:00Z');

function exportJob(status: string): ExportJobProperties {
  return {
    JobId: JOB,
    DatastoreId: DATASTORE,
    JobStatus: status as ExportJobProperties['JobStatus'],
    SubmitTime: new Date(T0),
    OutputDataConfig: { S3Configuration: { S3Uri: 's3://out/x', KmsKeyId: 'alias/k' } },
    DataAccessRoleArn: 'arn:aws:iam::123456789012:role/r',
    ...(status === 'FAILED' ? { Message: 'bucket gone', EndTime: new Date(T0 + 9_000) } : {}),
  };
}

/** A fake that answers each Describe from a script (status or error), repeating the last entry. */
function scripted(script: Array<string | Error>): { api: HealthLakeExportApi; calls: () => number } {
  let calls = 0;
  const api: HealthLakeExportApi = {
    startFHIRExportJob: () => Promise.reject(new Error('not scripted')),
    listFHIRExportJobs: () => Promise.reject(new Error('not scripted')),
    describeFHIRExportJob: async () => {
      const entry = script[Math.min(calls, script.length - 1)]!;
      calls++;
      if (entry instanceof Error) throw entry;
      return { ExportJobProperties: exportJob(entry) };
    },
  };
  return { api, calls: () => calls };
}

const view = (status: ExportJobView['status'], describeCalls: number): ExportJobView => ({
  datastoreId: DATASTORE,
  jobId: JOB,
  status,
  describeCalls,
});

function args(policy: Partial<PollPolicy>, extra: Partial<AwaitExportJobArgs> = {}): AwaitExportJobArgs {
  return {
    datastoreId: DATASTORE,
    jobId: JOB,
    knownStatus: 'IN_PROGRESS',
    pollPolicy: { ...DEFAULT_POLL_POLICY, jitter: 0, ...policy },
    firstDelayMs: 0,
    lastView: view('IN_PROGRESS', 2),
    ...extra,
  };
}

async function attempt(
  api: HealthLakeExportApi,
  waitArgs: AwaitExportJobArgs,
  info: { attempt?: number; heartbeatDetails?: unknown } = {},
) {
  const act = createExportActivities({ healthLake: api, clock: () => T0 + 10_000, random: () => 0 });
  const env = new MockActivityEnvironment(
    { attempt: info.attempt ?? 1, heartbeatDetails: info.heartbeatDetails },
    quiet,
  );
  const heartbeats: StatusWaitHeartbeat<ExportJobView>[] = [];
  env.on('heartbeat', (d: StatusWaitHeartbeat<ExportJobView>) => heartbeats.push(d));
  try {
    const result = await env.run<[AwaitExportJobArgs], ExportJobView, typeof act.awaitExportJobChange>(
      act.awaitExportJobChange,
      waitArgs,
    );
    return { result, heartbeats };
  } catch (err) {
    return { failure: err as ApplicationFailure, heartbeats };
  }
}

describe('runStatusWait (the shared engine) on awaitExportJobChange', () => {
  it('short waits sleep inside the attempt: 3 Describes, one heartbeat, exact counts and elapsed', async () => {
    const { api, calls } = scripted(['IN_PROGRESS', 'IN_PROGRESS', 'COMPLETED']);
    const { result, heartbeats } = await attempt(
      api,
      args({ minDelayMs: 1, maxDelayMs: 4, inAttemptWaitMaxMs: 1_000, attemptTimeoutMs: 60_000 }),
    );
    assert.equal(calls(), 3);
    assert.equal(result?.status, 'COMPLETED');
    assert.equal(result?.describeCalls, 2 + 3);
    assert.equal(result?.elapsedMs, 10_000);
    assert.equal(result?.submitTime, new Date(T0).toISOString());
    // Heartbeat at the first moment only: unchanged polls send none.
    assert.deepEqual(
      heartbeats.map((h) => [h.view.status, h.view.describeCalls, h.attempt, h.key]),
      [['IN_PROGRESS', 2, 1, JOB]],
    );
  });

  it('a long wait ends the attempt with a BENIGN ExportJobStillRunning carrying nextRetryDelay', async () => {
    const { api, calls } = scripted(['IN_PROGRESS']);
    const { failure } = await attempt(api, args({ minDelayMs: 5_000 }));
    assert.equal(calls(), 1);
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, 'ExportJobStillRunning');
    assert.equal(failure.category, 'BENIGN');
    // pollsSinceChange 1 → 5 s · 2¹, no jitter.
    assert.equal(failure.nextRetryDelay, 10_000);
    assert.equal(
      failure.message,
      `waiting, not an error: export job ${JOB} is IN_PROGRESS; next Describe in 10 s`,
    );
    // No stack trace: the UI's "last failure" shows a plain sentence for a normal wait.
    assert.equal(failure.stack, '');
  });

  it('still-running delays read as people say them', () => {
    assert.deepEqual([850, 1_000, 12_500, 60_000, 125_000].map(humanDelay), [
      '850 ms',
      '1 s',
      '12.5 s',
      '1 min',
      '2 min 5 s',
    ]);
  });

  it('a later attempt counts the attempts that left no heartbeat (one Describe each)', async () => {
    const { api } = scripted(['COMPLETED']);
    const saved: StatusWaitHeartbeat<ExportJobView> = {
      view: view('IN_PROGRESS', 7),
      describeCallsAtChange: 7,
      key: JOB,
      attempt: 2,
    };
    // Attempts 3 and 4 made one Describe each without a heartbeat; attempt 5 makes this one.
    const { result } = await attempt(api, args({}), { attempt: 5, heartbeatDetails: saved });
    assert.equal(result?.describeCalls, 7 + 2 + 1);
  });

  it("another wait's heartbeat is ignored", async () => {
    const { api } = scripted(['COMPLETED']);
    const saved: StatusWaitHeartbeat<ExportJobView> = {
      view: view('IN_PROGRESS', 50),
      describeCallsAtChange: 50,
      key: 'another-job',
      attempt: 1,
    };
    const { result } = await attempt(api, args({}), { attempt: 3, heartbeatDetails: saved });
    assert.equal(result?.describeCalls, 3);
  });

  it('FAILED returns to the workflow with the Message; QUEUED waits queuedDelayMs', async () => {
    const failed = await attempt(scripted(['FAILED']).api, args({}));
    assert.equal(failed.result?.status, 'FAILED');
    assert.equal(failed.result?.message, 'bucket gone');
    assert.equal(failed.result?.elapsedMs, 9_000);
    const queued = await attempt(
      scripted(['QUEUED']).api,
      args({ queuedDelayMs: 45_000 }, { knownStatus: 'QUEUED' }),
    );
    assert.equal(queued.failure?.nextRetryDelay, 45_000);
  });

  it('throttling is retried after the poll delay; AccessDenied fails at once, non-retryable', async () => {
    const throttled = await attempt(
      scripted([new ThrottlingException({ message: 'Rate exceeded', $metadata: {} })]).api,
      args({}),
    );
    assert.equal(throttled.failure?.type, 'ThrottlingException');
    assert.equal(throttled.failure?.nonRetryable, false);
    assert.equal(throttled.failure?.nextRetryDelay, 10_000);
    const denied = await attempt(
      scripted([new AccessDeniedException({ message: 'no export for you', $metadata: {} })]).api,
      args({}),
    );
    assert.equal(denied.failure?.type, 'AccessDeniedException');
    assert.equal(denied.failure?.nonRetryable, true);
    assert.equal(
      denied.failure?.message,
      'DescribeFHIRExportJob failed with AccessDeniedException: no export for you',
    );
  });
});
