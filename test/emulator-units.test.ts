// The emulator's pure cores, exactly: token buckets on an injected clock, the speed-limit
// arithmetic, request fingerprints for ClientToken, and NextToken pagination.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { minimumElapsedSeconds } from '../emulator/engine/pacing';
import { ServiceError } from '../emulator/errors';
import { fingerprint } from '../emulator/operations/context';
import { paginate } from '../emulator/operations/paginate';
import { createRateLimiter } from '../emulator/quotas';
import { FAST_SPEED } from '../emulator/settings';

describe('rate limiter', () => {
  it('lets `burst` calls through, then one per 1/rate seconds of the injected clock', () => {
    let nowMs = 0;
    const limiter = createRateLimiter(() => nowMs);
    const limit = { ratePerSecond: 10, burst: 3 };
    const take = () => limiter.tryTake('Describe', limit);
    assert.deepEqual([take(), take(), take(), take()], [true, true, true, false]);
    nowMs += 50; // half a token
    assert.equal(take(), false);
    nowMs += 50; // the other half
    assert.deepEqual([take(), take()], [true, false]);
    nowMs += 10_000; // refills to the burst, not beyond
    assert.deepEqual([take(), take(), take(), take()], [true, true, true, false]);
    assert.equal(limiter.tryTake('Other', limit), true, 'buckets are per key');
  });
});

describe('speed limit arithmetic', () => {
  const cases: [
    string,
    { megabytesPerSecond: number | null; resourcesPerSecond: number | null },
    number,
    number,
    number,
  ][] = [
    ['unlimited', { megabytesPerSecond: null, resourcesPerSecond: null }, 50_000_000, 1_000, 0],
    ['10 MB/s, 25 MB', { megabytesPerSecond: 10, resourcesPerSecond: null }, 25_000_000, 1_000, 2.5],
    ['100 resources/s, 50 resources', { megabytesPerSecond: null, resourcesPerSecond: 100 }, 1, 50, 0.5],
    ['both: the slower one wins', { megabytesPerSecond: 1, resourcesPerSecond: 100 }, 3_000_000, 50, 3],
  ];
  for (const [name, speed, bytes, resources, seconds] of cases)
    it(name, () =>
      assert.equal(minimumElapsedSeconds({ ...FAST_SPEED, ...speed }, bytes, resources), seconds),
    );
});

describe('request fingerprint', () => {
  it('ignores key order, undefined members and the ClientToken itself', () => {
    assert.equal(
      fingerprint({ B: 1, A: { Y: 2, X: [1, { Q: 1, P: 2 }] }, ClientToken: 'a', C: undefined }),
      fingerprint({ A: { X: [1, { P: 2, Q: 1 }], Y: 2 }, B: 1, ClientToken: 'b' }),
    );
    assert.notEqual(fingerprint({ A: [1, 2] }), fingerprint({ A: [2, 1] }));
  });
});

describe('pagination', () => {
  const items = ['a', 'b', 'c', 'd', 'e'];
  it('walks every page with the tokens it issues, then stops', () => {
    const first = paginate(items, { MaxResults: 2 }, 'f');
    const second = paginate(items, { MaxResults: 2, NextToken: first.nextToken }, 'f');
    const third = paginate(items, { MaxResults: 2, NextToken: second.nextToken }, 'f');
    assert.deepEqual(
      [first.items, second.items, third.items, third.nextToken],
      [['a', 'b'], ['c', 'd'], ['e'], undefined],
    );
    assert.deepEqual(paginate(items, { NextToken: '' }, 'f').items, items);
  });
  it('rejects a token issued for other filters', () => {
    const { nextToken } = paginate(items, { MaxResults: 1 }, 'filter-a');
    assert.throws(
      () => paginate(items, { NextToken: nextToken }, 'filter-b'),
      (err: unknown) =>
        err instanceof ServiceError &&
        err.type === 'ValidationException' &&
        /at 'nextToken'/.test(err.message),
    );
  });
});
