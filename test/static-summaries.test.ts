// Every workflow the project offers has a Web UI summary and details from its start options:
// started through the public helpers on a real dev server (no worker needed: the static fields
// are the server's from the start), read back with describe().
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalTestEnv, type LocalTestEnv } from '../worker/dev-server';
import {
  deleteDatastoreStaticSummary,
  deleteFhirDatastoreWorkflowId,
  ensureDatastoreStaticSummary,
  ensureFhirDatastoreWorkflowId,
  exportStaticSummary,
  fhirExportWorkflowId,
} from '../workflows/contract';
import { uniqueName } from './helpers/import-env';
import { quietTemporalRuntime } from './helpers/runtime';

let temporal: LocalTestEnv;
before(async () => {
  quietTemporalRuntime();
  temporal = await createLocalTestEnv();
});
after(async () => {
  await temporal?.teardown();
});

/** Starts `workflowType` (nothing polls its queue), returns its static summary and details. */
async function startAndDescribe(
  workflowType: string,
  workflowId: string,
  input: unknown,
  summary: { staticSummary: string; staticDetails: string },
): Promise<[string | undefined, string | undefined]> {
  const { client } = temporal.env;
  const handle = await client.workflow.start(workflowType, {
    workflowId,
    taskQueue: uniqueName('nobody'),
    args: [input],
    ...summary,
  });
  try {
    const description = await handle.describe();
    return [await description.staticSummary(), await description.staticDetails()];
  } finally {
    await handle.terminate('test over');
  }
}

describe('static summaries of the lifecycle workflows', () => {
  it('fhirExportWorkflow: exportStaticSummary', async () => {
    const input = {
      datastoreId: 'a1b2c3',
      outputS3Uri: 's3://bucket/export/',
      kmsKeyId: 'alias/k',
      dataAccessRoleArn: 'arn:aws:iam::123456789012:role/R',
    };
    const [summary, details] = await startAndDescribe(
      'fhirExportWorkflow',
      fhirExportWorkflowId(uniqueName('export')),
      input,
      exportStaticSummary(input),
    );
    assert.equal(summary, 'HealthLake export from a1b2c3');
    assert.equal(
      details,
      [
        '**HealthLake FHIR export** from data store `a1b2c3`',
        '',
        '- output: `s3://bucket/export/`',
        '- job name: (from the workflow id)',
        '- count the output: yes',
      ].join('\n'),
    );
  });

  it('ensureFhirDatastoreWorkflow and deleteFhirDatastoreWorkflow', async () => {
    const ensure = {
      datastoreName: 'nightly',
      preloadSynthea: true,
      sse: { cmkType: 'CUSTOMER_MANAGED_KMS_KEY', kmsKeyId: 'k' },
    } as const;
    assert.deepEqual(
      await startAndDescribe(
        'ensureFhirDatastoreWorkflow',
        ensureFhirDatastoreWorkflowId(uniqueName('nightly')),
        ensure,
        ensureDatastoreStaticSummary(ensure),
      ),
      [
        'HealthLake data store "nightly": find or create, wait ACTIVE',
        [
          '**HealthLake data store** `nightly` (R4)',
          '',
          '- found by name, or created; then waited for until ACTIVE',
          '- preload Synthea: yes',
          '- encryption: customer managed KMS key',
        ].join('\n'),
      ],
    );
    const remove = { datastoreId: 'a1b2c3' };
    assert.deepEqual(
      await startAndDescribe(
        'deleteFhirDatastoreWorkflow',
        deleteFhirDatastoreWorkflowId(uniqueName('a1b2c3')),
        remove,
        deleteDatastoreStaticSummary(remove),
      ),
      [
        'HealthLake data store a1b2c3: delete, wait DELETED',
        [
          '**HealthLake data store deletion** of `a1b2c3`',
          '',
          '- refused while import or export jobs run on it; then waited for until DELETED',
        ].join('\n'),
      ],
    );
  });
});
