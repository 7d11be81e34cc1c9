// Table test of classifyImportStatus over every HealthLake JobStatus member, plus unknown ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobStatus } from '@aws-sdk/client-healthlake';
import { classifyImportStatus, isTerminalImportStatus } from '../workflows/import-status';
import { ImportJobStatus } from '../workflows/types';

// Compile-time: our mirror and the SDK's enum have exactly the same members.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const mirrorsSdk: Same<ImportJobStatus, JobStatus> = true;

describe('classifyImportStatus', () => {
  const table: ReadonlyArray<[string, string, boolean]> = [
    ['SUBMITTED', 'waiting', false],
    ['QUEUED', 'waiting', false],
    ['IN_PROGRESS', 'waiting', false],
    ['CANCEL_SUBMITTED', 'waiting', false],
    ['CANCEL_IN_PROGRESS', 'waiting', false],
    ['COMPLETED', 'completed', true],
    ['COMPLETED_WITH_ERRORS', 'completed-with-errors', true],
    ['FAILED', 'failed', true],
    ['CANCEL_COMPLETED', 'cancelled', true],
    ['CANCEL_FAILED', 'cancelled', true],
    ['PAUSED', 'unknown', false],
    ['', 'unknown', false],
    ['completed', 'unknown', false],
  ];

  it('covers every SDK JobStatus member', () => {
    assert.equal(mirrorsSdk, true);
    const covered = table.map(([status]) => status).filter((s) => s in JobStatus);
    assert.deepEqual([...covered].sort(), Object.values(JobStatus).sort());
  });

  for (const [status, kind, terminal] of table) {
    it(`${JSON.stringify(status)} → ${kind}`, () => {
      assert.deepEqual(classifyImportStatus(status), { kind, status });
      assert.equal(isTerminalImportStatus(status), terminal);
    });
  }
});
