// The per-process HealthLake call budget (activities/call-budget.ts): the exact two-lane schedule
// on fake time (node:test mock.timers drives Date and setTimeout), refusals, aborts, the lane of
// each proxied operation, and against the emulator's real 10 TPS quota over HTTP through the SDK.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it, mock } from 'node:test';
import { CreateFHIRDatastoreCommand } from '@aws-sdk/client-healthlake';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createHealthLakeActivities } from '../activities';
import { healthLakeImportApi, type HealthLakeImportApi } from '../activities/healthlake-api';
import {
  callBudgetRetryAfterMs,
  createCallBudget,
  withCallBudget,
  type CallBudget,
  type CallLane,
} from '../activities/call-budget';
import { generateFhirData, writeFhirDataToS3 } from '../emulator/fhir/generate';
import { ensureBucket } from '../emulator/s3';
import {
  healthLakeClientFor,
  startLocalHealthLake,
  waitForDatastore,
  type LocalHealthLake,
} from '../emulator/testing';

/** Lets promise callbacks run (setImmediate is not mocked). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Moves fake time forward 1 ms at a time, so each release is seen at the ms it happens. */
async function advance(ms: number): Promise<void> {
  await settle();
  for (let i = 0; i < ms; i++) {
    mock.timers.tick(1);
    await settle();
  }
}

/** Takes a slot of `lane` and records `[name, ms released]` in `released` (or the error). */
function take(budget: CallBudget, lane: CallLane, name: string, released: Array<[string, number]>) {
  return budget.take(lane).then(
    () => void released.push([name, Date.now()]),
    (err: Error) => void released.push([`${name} ${err.name}`, Date.now()]),
  );
}

const zeroLane = { calls: 0, waited: 0, waitedMs: 0, maxWaitedMs: 0, refused: 0, aborted: 0 };

describe('createCallBudget', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  // Was on a frozen injected clock with real timers; the slot is now decided when it is released
  // (a later wait call may go first), so the release reads the clock: fake time drives both.
  it('lets the burst through, then releases one call per 1/rate in arrival order', async () => {
    const budget = createCallBudget({ callsPerSecond: 100, burst: 2 });
    const released: Array<[string, number]> = [];
    for (const name of ['0', '1', '2', '3', '4']) void take(budget, 'wait', name, released);
    await advance(40);
    // Calls 3, 4 and 5 wait 10, 20 and 30 ms (100 calls/s).
    assert.deepEqual(released, [
      ['0', 0],
      ['1', 0],
      ['2', 10],
      ['3', 20],
      ['4', 30],
    ]);
    const wait = { ...zeroLane, calls: 5, waited: 3, waitedMs: 60, maxWaitedMs: 30 };
    assert.deepEqual(budget.stats, { ...wait, byLane: { wait, bulk: zeroLane } });
  });

  it('refills at the rate: after an idle second the whole burst is free again', async () => {
    const budget = createCallBudget({ callsPerSecond: 10, burst: 3 });
    await Promise.all([budget.take(), budget.take('bulk'), budget.take()]);
    mock.timers.tick(1_000);
    await Promise.all([budget.take('bulk'), budget.take(), budget.take()]);
    assert.equal(Date.now(), 1_000);
    assert.deepEqual(budget.stats, {
      ...zeroLane,
      calls: 6,
      byLane: { wait: { ...zeroLane, calls: 4 }, bulk: { ...zeroLane, calls: 2 } },
    });
  });

  it('a slot further away than maxWaitMs is refused at once as a ThrottlingException, and not booked', async () => {
    const budget = createCallBudget({ callsPerSecond: 100, burst: 1, maxWaitMs: 15 });
    const first = budget.take();
    const second = budget.take(); // 10 ms away
    const refusal = await budget.take().catch((err: unknown) => err);
    assert.ok(refusal instanceof Error);
    assert.equal(refusal.name, 'ThrottlingException');
    assert.equal(
      refusal.message,
      'HealthLake call budget of this worker is booked for the next 20 ms; retry later',
    );
    // The wait it names, which the start path sleeps inside its attempt (activities/import.ts).
    assert.equal(callBudgetRetryAfterMs(refusal), 20);
    assert.equal(
      callBudgetRetryAfterMs(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })),
      undefined,
    );
    await advance(10);
    await Promise.all([first, second]);
    const wait = { ...zeroLane, calls: 2, waited: 1, waitedMs: 10, maxWaitedMs: 10, refused: 1 };
    assert.deepEqual(budget.stats, { ...wait, byLane: { wait, bulk: zeroLane } });
    // The refused call booked nothing: at 10 ms the next slot is 10 ms out, within maxWaitMs.
    const third = budget.take();
    await advance(10);
    await third;
    assert.equal(budget.stats.calls, 3);
  });

  it('wait calls go before queued bulk calls; bulk still gets 1 slot in 4 (bulkShare 0.25)', async () => {
    const budget = createCallBudget({ callsPerSecond: 100, burst: 1 });
    const released: Array<[string, number]> = [];
    for (const name of ['b0', 'b1', 'b2', 'b3', 'b4']) void take(budget, 'bulk', name, released);
    await advance(5);
    for (const name of ['w0', 'w1', 'w2', 'w3', 'w4']) void take(budget, 'wait', name, released);
    await advance(100);
    assert.deepEqual(released, [
      ['b0', 0],
      ['w0', 10],
      ['w1', 20],
      ['w2', 30],
      ['b1', 40], // 3 wait slots in a row while bulk waited: the 4th is bulk's
      ['w3', 50],
      ['w4', 60],
      ['b2', 70],
      ['b3', 80],
      ['b4', 90],
    ]);
    const wait = { ...zeroLane, calls: 5, waited: 5, waitedMs: 5 + 15 + 25 + 45 + 55, maxWaitedMs: 55 };
    const bulk = { ...zeroLane, calls: 5, waited: 4, waitedMs: 40 + 70 + 80 + 90, maxWaitedMs: 90 };
    assert.deepEqual(budget.stats, {
      ...zeroLane,
      calls: 10,
      waited: 9,
      waitedMs: 425,
      maxWaitedMs: 90,
      byLane: { wait, bulk },
    });
  });

  it('bulkShare 0.5 alternates while both lanes wait', async () => {
    const budget = createCallBudget({ callsPerSecond: 100, burst: 1, bulkShare: 0.5 });
    const released: Array<[string, number]> = [];
    for (const name of ['b0', 'b1', 'b2']) void take(budget, 'bulk', name, released);
    for (const name of ['w0', 'w1', 'w2', 'w3']) void take(budget, 'wait', name, released);
    await advance(70);
    assert.deepEqual(
      released,
      ['b0', 'w0', 'b1', 'w1', 'b2', 'w2', 'w3'].map((name, i) => [name, i * 10]),
    );
  });

  it('maxWaitMs is a bound per lane, even for a bulk call that wait calls arriving later go before', async () => {
    const budget = createCallBudget({ callsPerSecond: 100, burst: 1, maxWaitMs: 45 });
    const released: Array<[string, number]> = [];
    // b0 takes the free slot. b1 may see 3 wait calls go first (1 slot in 4 is bulk's): 40 ms.
    for (const name of ['b0', 'b1']) void take(budget, 'bulk', name, released);
    // b2 may see 3 more wait calls and b1 before it: 80 ms, refused.
    await assert.rejects(budget.take('bulk'), {
      name: 'ThrottlingException',
      message: 'HealthLake call budget of this worker is booked for the next 80 ms; retry later',
    });
    // Wait calls arriving later go first: 10, 20, 30 ms. w3 would come after bulk's slot: 50 ms,
    // refused (a wait call counts the bulk share's slots among its lane's, not the bulk queue).
    for (const name of ['w0', 'w1', 'w2', 'w3']) void take(budget, 'wait', name, released);
    await advance(50);
    assert.deepEqual(released, [
      ['b0', 0],
      ['w3 ThrottlingException', 0],
      ['w0', 10],
      ['w1', 20],
      ['w2', 30],
      ['b1', 40], // within its 45 ms although 3 wait calls went first
    ]);
    assert.deepEqual(
      [budget.stats.refused, budget.stats.byLane.wait.refused, budget.stats.byLane.bulk.refused],
      [2, 1, 1],
    );
  });

  it('an aborted wait rejects with the signal reason and gives its slot to the next caller', async () => {
    const budget = createCallBudget({ callsPerSecond: 1, burst: 1 });
    await budget.take();
    const controller = new AbortController();
    const waiting = budget.take('wait', controller.signal);
    const released: Array<[string, number]> = [];
    void take(budget, 'bulk', 'next', released);
    controller.abort(new Error('activity cancelled'));
    await assert.rejects(waiting, { message: 'activity cancelled' });
    await advance(1_000);
    assert.deepEqual(released, [['next', 1_000]]);
    // A signal already aborted takes no place in the queue either.
    await assert.rejects(budget.take('wait', AbortSignal.abort(new Error('gone'))), { message: 'gone' });
    assert.deepEqual(
      [
        budget.stats.calls,
        budget.stats.aborted,
        budget.stats.byLane.wait.aborted,
        budget.stats.byLane.bulk.calls,
      ],
      [2, 2, 2, 1],
    );
  });

  it('refuses a rate that is not above 0 and a bulkShare outside (0, 0.5]', () => {
    assert.throws(() => createCallBudget({ callsPerSecond: 0 }), {
      name: 'RangeError',
      message: 'callsPerSecond 0: must be a number above 0',
    });
    for (const bulkShare of [0, 0.6]) {
      assert.throws(() => createCallBudget({ callsPerSecond: 1, bulkShare }), {
        name: 'RangeError',
        message: `bulkShare ${bulkShare}: must be a number above 0 and at most 0.5`,
      });
    }
  });
});

describe('withCallBudget lanes', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 }));
  afterEach(() => mock.timers.reset());

  it('Start is bulk, Describe is wait, a List with budgetLane bulk is bulk and the SDK never sees the hint', async () => {
    // Records what the client receives; the emulator test below covers the real client.
    const received: Array<[string, unknown, number]> = [];
    const record =
      (operation: string) =>
      (_input: unknown, options?: unknown): Promise<never> => {
        received.push([operation, options, Date.now()]);
        return Promise.resolve({} as never);
      };
    const client = {
      startFHIRImportJob: record('start'),
      describeFHIRImportJob: record('describe'),
      listFHIRImportJobs: record('list'),
    } as unknown as HealthLakeImportApi;
    const budget = createCallBudget({ callsPerSecond: 100, burst: 1 });
    const api = withCallBudget(client, budget);
    const input = { DatastoreId: 'd', JobId: 'j' } as never;
    const calls = [
      api.startFHIRImportJob(input),
      api.startFHIRImportJob(input),
      api.listFHIRImportJobs(input, { budgetLane: 'bulk' }),
      api.listFHIRImportJobs(input, {}),
      api.describeFHIRImportJob(input),
    ];
    await advance(40);
    await Promise.all(calls);
    assert.deepEqual(received, [
      ['start', undefined, 0],
      ['list', {}, 10],
      ['describe', undefined, 20],
      ['start', undefined, 30],
      ['list', {}, 40],
    ]);
    assert.deepEqual([budget.stats.byLane.wait.calls, budget.stats.byLane.bulk.calls], [2, 3]);
  });
});

describe('withCallBudget against the emulator (10 Describe calls/s, burst 10)', () => {
  let local: LocalHealthLake;
  before(async () => {
    local = await startLocalHealthLake();
  });
  after(async () => {
    await local?.stop();
  });

  it('the real start path takes the bulk lane (its List and Start), the woken Describe the wait lane', async () => {
    local.emulator.resetCounters();
    await ensureBucket(local.s3, 'budget-lanes');
    await writeFhirDataToS3(generateFhirData({ patients: 1, seed: 9 }), local.s3, 's3://budget-lanes/in/');
    const created = await local.healthLake.send(
      new CreateFHIRDatastoreCommand({ DatastoreName: 'budget-lanes', DatastoreTypeVersion: 'R4' }),
    );
    const datastoreId = created.DatastoreId!;
    await waitForDatastore(local.healthLake, datastoreId);
    const budget = createCallBudget({ callsPerSecond: 9 });
    const client = healthLakeClientFor(local.emulator, 1);
    after(() => client.destroy());
    const act = createHealthLakeActivities({
      healthLake: withCallBudget(healthLakeImportApi(client), budget),
    });
    const env = new MockActivityEnvironment({ attempt: 1 }, { logger: new DefaultLogger('ERROR') });
    const started: Awaited<ReturnType<typeof act.startImportJob>> = await env.run(act.startImportJob, {
      datastoreId,
      inputS3Uri: 's3://budget-lanes/in/',
      outputS3Uri: 's3://budget-lanes/out/',
      kmsKeyId: 'alias/k',
      dataAccessRoleArn: 'arn:aws:iam::123456789012:role/HealthLakeImport',
      jobName: 'budget-lanes',
      identity: 'default/wf-lanes/run-1',
      notBefore: new Date().toISOString(),
    });
    assert.equal(started.how, 'started');
    await env.run(act.describeImportJob, { datastoreId, jobId: started.jobId });
    const counters = local.emulator.counters();
    assert.deepEqual(
      [
        counters.ListFHIRImportJobs?.calls,
        counters.StartFHIRImportJob?.calls,
        counters.DescribeFHIRImportJob?.calls,
      ],
      [1, 1, 1],
    );
    assert.deepEqual([budget.stats.byLane.bulk.calls, budget.stats.byLane.wait.calls], [2, 1]);
  });

  it('25 concurrent Describes at 9 calls/s: none throttled, 21 waited for their turn', async () => {
    local.emulator.resetCounters();
    // A little under the quota, as the worker's share is: arrival jitter then never finds the
    // service's bucket empty. SDK retries off, so every call is counted once.
    const budget = createCallBudget({ callsPerSecond: 9 });
    const client = healthLakeClientFor(local.emulator, 1);
    after(() => client.destroy());
    const api = withCallBudget(healthLakeImportApi(client), budget);
    const started = Date.now();
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, (_, i) =>
        api.describeFHIRImportJob({
          DatastoreId: 'a'.repeat(32),
          JobId: `job${String(i).padStart(29, '0')}`,
        }),
      ),
    );
    const elapsedMs = Date.now() - started;
    const counters = local.emulator.counters().DescribeFHIRImportJob;
    assert.equal(counters?.calls, 25);
    assert.equal(counters?.throttled, 0);
    // Every call reached the service (the data store does not exist: ResourceNotFoundException).
    assert.deepEqual(
      [...new Set(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).name : 'ok')))],
      ['ResourceNotFoundException'],
    );
    assert.equal(budget.stats.calls, 25);
    // The default burst is half a second's worth (4): 21 calls wait, the last 21/9 s after the first.
    assert.equal(budget.stats.waited, 21);
    assert.ok(elapsedMs >= 2_300, `the 25th call goes out 21/9 s after the first (took ${elapsedMs} ms)`);
  });
});
