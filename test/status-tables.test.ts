// Table tests of the status tables the shared polling engine reads: every JobStatus and
// DatastoreStatus member of the AWS SDK has exactly the outcome asserted here, and a status the
// tables do not list is `unknown` (an error, never "keep waiting").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DatastoreStatus as SdkDatastoreStatus, JobStatus as SdkJobStatus } from '@aws-sdk/client-healthlake';
import {
  DATASTORE_CREATE_OUTCOMES,
  DATASTORE_DELETE_OUTCOMES,
  DatastoreStatus,
} from '../workflows/datastore-types';
import { EXPORT_JOB_OUTCOMES } from '../workflows/export-types';
import { classifyStatus, isWaitOver, StatusOutcome } from '../workflows/status-table';

const sorted = (values: Iterable<string>) => [...values].sort();

describe('export job status table', () => {
  const expected: Record<string, StatusOutcome> = {
    SUBMITTED: 'waiting',
    QUEUED: 'waiting',
    IN_PROGRESS: 'waiting',
    CANCEL_SUBMITTED: 'waiting',
    CANCEL_IN_PROGRESS: 'waiting',
    COMPLETED: 'done',
    COMPLETED_WITH_ERRORS: 'done',
    FAILED: 'failed',
    CANCEL_COMPLETED: 'cancelled',
    CANCEL_FAILED: 'cancelled',
  };
  it('lists every SDK JobStatus member, no more', () => {
    assert.deepEqual(sorted(Object.keys(EXPORT_JOB_OUTCOMES)), sorted(Object.values(SdkJobStatus)));
  });
  for (const status of Object.values(SdkJobStatus)) {
    it(`${status} → ${expected[status]}`, () => {
      assert.equal(classifyStatus(EXPORT_JOB_OUTCOMES, status), expected[status]);
      assert.equal(isWaitOver(EXPORT_JOB_OUTCOMES, status), expected[status] !== 'waiting');
    });
  }
  it('an unlisted status is unknown and ends the wait', () => {
    assert.equal(classifyStatus(EXPORT_JOB_OUTCOMES, 'PAUSED'), StatusOutcome.unknown);
    assert.equal(classifyStatus(EXPORT_JOB_OUTCOMES, 'toString'), StatusOutcome.unknown);
    assert.equal(isWaitOver(EXPORT_JOB_OUTCOMES, 'PAUSED'), true);
  });
});

describe('data store status tables', () => {
  it('the mirrored DatastoreStatus equals the SDK enum', () => {
    assert.deepEqual(sorted(Object.values(DatastoreStatus)), sorted(Object.values(SdkDatastoreStatus)));
  });
  const create: Record<string, StatusOutcome> = {
    CREATING: 'waiting',
    ACTIVE: 'done',
    CREATE_FAILED: 'failed',
    DELETING: 'cancelled',
    DELETED: 'cancelled',
  };
  const remove: Record<string, StatusOutcome> = {
    DELETING: 'waiting',
    ACTIVE: 'waiting',
    CREATE_FAILED: 'waiting',
    DELETED: 'done',
    CREATING: 'failed',
  };
  for (const [name, table, expected] of [
    ['create', DATASTORE_CREATE_OUTCOMES, create],
    ['delete', DATASTORE_DELETE_OUTCOMES, remove],
  ] as const) {
    it(`${name}: lists every SDK DatastoreStatus member, no more`, () => {
      assert.deepEqual(sorted(Object.keys(table)), sorted(Object.values(SdkDatastoreStatus)));
    });
    for (const status of Object.values(SdkDatastoreStatus)) {
      it(`${name}: ${status} → ${expected[status]}`, () => {
        assert.equal(classifyStatus(table, status), expected[status]);
      });
    }
    // UPDATING and UPDATE_FAILED are data store statuses of the newer model (botocore 1.44) that the
    // JS SDK 3.1048 does not list: unknown, so the wait ends with UnexpectedDatastoreStatus.
    for (const newer of ['UPDATING', 'UPDATE_FAILED']) {
      it(`${name}: ${newer} (newer model, unlisted) is unknown`, () => {
        assert.equal(classifyStatus(table, newer), StatusOutcome.unknown);
      });
    }
  }
});
