// The per-process HealthLake call budget (activities/call-budget.ts): the exact FIFO schedule on an
// injected clock, aborts, and against the emulator's real 10 TPS quota over HTTP through the SDK.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { healthLakeImportApi } from '../activities/healthlake-api';
import { createCallBudget, withCallBudget } from '../activities/call-budget';
import { healthLakeClientFor, startLocalHealthLake, type LocalHealthLake } from '../emulator/testing';

describe('createCallBudget', () => {
  it('lets the burst through, then releases one call per 1/rate in arrival order', async () => {
    const budget = createCallBudget({ callsPerSecond: 100, burst: 2, clock: () => 0 });
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3, 4].map((i) => budget.take().then(() => order.push(i))));
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
    // Calls 3, 4 and 5 wait 10, 20 and 30 ms (100 calls/s).
    assert.deepEqual(budget.stats, { calls: 5, waited: 3, waitedMs: 60, refused: 0 });
  });

  it('refills at the rate: after an idle second the whole burst is free again', async () => {
    let now = 0;
    const budget = createCallBudget({ callsPerSecond: 10, burst: 3, clock: () => now });
    await Promise.all([budget.take(), budget.take(), budget.take()]);
    now = 1_000;
    await Promise.all([budget.take(), budget.take(), budget.take()]);
    assert.deepEqual(budget.stats, { calls: 6, waited: 0, waitedMs: 0, refused: 0 });
  });

  it('a slot further away than maxWaitMs is refused at once as a ThrottlingException, and not booked', async () => {
    const budget = createCallBudget({ callsPerSecond: 100, burst: 1, maxWaitMs: 15, clock: () => 0 });
    const first = budget.take();
    const second = budget.take(); // 10 ms away
    await assert.rejects(budget.take(), {
      name: 'ThrottlingException',
      message: 'HealthLake call budget of this worker is booked for the next 20 ms; retry later',
    });
    await Promise.all([first, second]);
    assert.deepEqual(budget.stats, { calls: 2, waited: 1, waitedMs: 10, refused: 1 });
    // The refused call booked nothing: the next slot is still 20 ms out, past maxWaitMs.
    await assert.rejects(budget.take(), { name: 'ThrottlingException' });
  });

  it('an aborted wait rejects with the signal reason', async () => {
    const budget = createCallBudget({ callsPerSecond: 1, burst: 1, clock: () => 0 });
    await budget.take();
    const controller = new AbortController();
    const waiting = budget.take(controller.signal);
    controller.abort(new Error('activity cancelled'));
    await assert.rejects(waiting, { message: 'activity cancelled' });
  });

  it('refuses a rate that is not above 0', () => {
    assert.throws(() => createCallBudget({ callsPerSecond: 0 }), {
      name: 'RangeError',
      message: 'callsPerSecond 0: must be a number above 0',
    });
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
