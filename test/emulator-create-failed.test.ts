// The emulator's CREATE_FAILED control, over its HTTP control API and through the real SDK: the
// next data store created with the armed name ends CREATE_FAILED with the ErrorCause, once.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateFHIRDatastoreCommand, DescribeFHIRDatastoreCommand } from '@aws-sdk/client-healthlake';
import { startLocalHealthLake, waitForDatastore, type LocalHealthLake } from '../emulator/testing';

let local: LocalHealthLake;
before(async () => {
  local = await startLocalHealthLake();
});
after(async () => {
  await local?.stop();
});

describe('emulator: failCreate', () => {
  it('POST /_emulator/datastores/<name>/fail-create → the next create of that name ends CREATE_FAILED, once', async () => {
    const answer = await fetch(`${local.emulator.url}/_emulator/datastores/doomed%20store/fail-create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'Internal failure while provisioning', category: 'RETRYABLE_ERROR' }),
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(await answer.json(), { datastoreName: 'doomed store', action: 'fail-create' });
    const create = () =>
      local.healthLake.send(
        new CreateFHIRDatastoreCommand({ DatastoreName: 'doomed store', DatastoreTypeVersion: 'R4' }),
      );
    const failed = await create();
    await waitForDatastore(local.healthLake, failed.DatastoreId!, 'CREATE_FAILED');
    const { DatastoreProperties: props } = await local.healthLake.send(
      new DescribeFHIRDatastoreCommand({ DatastoreId: failed.DatastoreId! }),
    );
    assert.equal(props?.DatastoreStatus, 'CREATE_FAILED');
    assert.deepEqual(props?.ErrorCause, {
      ErrorMessage: 'Internal failure while provisioning',
      ErrorCategory: 'RETRYABLE_ERROR',
    });
    // Armed once: the next store with the name becomes ACTIVE, without an ErrorCause.
    const next = await create();
    await waitForDatastore(local.healthLake, next.DatastoreId!, 'ACTIVE');
    const again = await local.healthLake.send(
      new DescribeFHIRDatastoreCommand({ DatastoreId: next.DatastoreId! }),
    );
    assert.equal(again.DatastoreProperties?.ErrorCause, undefined);
  });
});
