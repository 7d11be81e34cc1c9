// startFhirImport validates its input with the workflow's validator before any server call: a bad
// input is a typed InvalidFhirImportInput in milliseconds, and no workflow exists afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { InvalidFhirImportInput, startFhirImport } from '../client';
import { createLocalTestEnv, type LocalTestEnv } from '../worker/dev-server';
import { fhirImportWorkflowId, importSearchAttributes, type FhirImportInput } from '../workflows/types';
import { VALID_INPUT } from './helpers/import-inputs';
import { uniqueName } from './helpers/import-env';
import { quietTemporalRuntime } from './helpers/runtime';

let temporal: LocalTestEnv;

before(async () => {
  quietTemporalRuntime();
  temporal = await createLocalTestEnv({ searchAttributes: importSearchAttributes });
});
after(async () => {
  await temporal?.teardown();
});

/** Generous for a regex over 3 MB; the helper used to take 42 s to fail through the server. */
const FAST_FAILURE_MS = 2_000;
const HUGE_URI = `s3://landing-bucket/${'a'.repeat(3 * 1024 * 1024)}`;

/** [label, input, message, fields]. */
const BAD_INPUTS: ReadonlyArray<[string, unknown, string, readonly string[]]> = [
  ['null', null, 'invalid FhirImportInput: input. (null) must be a FhirImportInput object', ['']],
  [
    'empty object',
    {},
    'invalid FhirImportInput: input.datastoreId (missing) is required; input.inputS3Uri (missing) is required; ' +
      'input.outputS3Uri (missing) is required; input.kmsKeyId (missing) is required; ' +
      'input.dataAccessRoleArn (missing) is required',
    ['datastoreId', 'inputS3Uri', 'outputS3Uri', 'kmsKeyId', 'dataAccessRoleArn'],
  ],
  ['string', 'str', 'invalid FhirImportInput: input. (string) must be a FhirImportInput object', ['']],
  ['array', [], 'invalid FhirImportInput: input. (array) must be a FhirImportInput object', ['']],
  [
    '3 MB inputS3Uri',
    { ...VALID_INPUT, inputS3Uri: HUGE_URI },
    `invalid FhirImportInput: input.inputS3Uri ${JSON.stringify(HUGE_URI).slice(0, 100)}… must be 1-1024 characters long`,
    ['inputS3Uri'],
  ],
];

describe('startFhirImport input validation', () => {
  for (const [label, input, message, fields] of BAD_INPUTS) {
    it(`${label}: InvalidFhirImportInput before any server call, no workflow started`, async () => {
      const callerKey = uniqueName(`bad-${label.replace(/\W+/g, '-')}`);
      const client = temporal.env.client;
      const startedAt = performance.now();
      await assert.rejects(
        startFhirImport(client, { callerKey, taskQueue: callerKey, input: input as FhirImportInput }),
        (err: unknown) => {
          assert.ok(err instanceof InvalidFhirImportInput, `got ${String(err)}`);
          assert.equal(err.name, 'InvalidFhirImportInput');
          assert.equal(err.message, message);
          assert.deepEqual(err.fields, fields);
          assert.equal(err.errors.length, fields.length);
          return true;
        },
      );
      const elapsedMs = performance.now() - startedAt;
      assert.ok(elapsedMs < FAST_FAILURE_MS, `${label} took ${elapsedMs.toFixed(0)} ms`);
      await assert.rejects(
        client.workflow.getHandle(fhirImportWorkflowId(callerKey)).describe(),
        WorkflowNotFoundError,
      );
    });
  }

  it('a valid input still starts the workflow (the validation does not reject what the workflow accepts)', async () => {
    const callerKey = uniqueName('good');
    const handle = await startFhirImport(temporal.env.client, {
      callerKey,
      taskQueue: callerKey, // nothing polls it: the start is all this test looks at
      input: VALID_INPUT,
    });
    const { status } = await handle.describe();
    assert.equal(status.name, 'RUNNING');
    await handle.terminate('test done');
  });
});
