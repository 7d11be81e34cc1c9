// Hostile request bodies over HTTP: JSON nested tens of thousands of levels deep is a client
// error (400 SerializationException, like any malformed body), never a retryable 500, and the
// emulator keeps serving afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type EmulatorHandle } from '../emulator/index';
import { jsonNestingDepth, MAX_JSON_DEPTH } from '../emulator/http';

const ID = 'a'.repeat(32);
const importJob = {
  DatastoreId: ID,
  InputDataConfig: { S3Uri: 's3://bucket/in/' },
  JobOutputDataConfig: {
    S3Configuration: {
      S3Uri: 's3://bucket/out/',
      KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    },
  },
  DataAccessRoleArn: 'arn:aws:iam::123456789012:role/HealthLakeImport',
};
const DEEP_LEVELS = 50_000;
const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
/** A StartFHIRImportJob body whose input union carries an extra member `levels` deep. */
const importWithNestedMember = (levels: number): string =>
  JSON.stringify({ ...importJob, InputDataConfig: { S3Uri: 's3://bucket/in/', Other: 0 } }).replace(
    '"Other":0',
    `"Other":${nested(levels)}`,
  );

describe('deeply nested JSON request bodies', () => {
  let emulator: EmulatorHandle;
  const internalErrors: string[] = [];
  before(async () => {
    emulator = await startEmulator({
      preset: 'fast',
      s3Endpoint: 'http://127.0.0.1:9',
      onError: (message) => internalErrors.push(message),
    });
  });
  after(async () => {
    await emulator.stop();
  });

  const post = (operation: string, body: string) =>
    fetch(emulator.url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `HealthLake.${operation}` },
    });

  it(`answers ${DEEP_LEVELS} levels with 400 SerializationException, not 500`, async () => {
    const response = await post('StartFHIRImportJob', importWithNestedMember(DEEP_LEVELS));
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('x-amzn-errortype'), 'SerializationException');
    assert.deepEqual(await response.json(), {
      __type: 'SerializationException',
      message: `Request body of StartFHIRImportJob nests deeper than ${MAX_JSON_DEPTH} levels`,
    });
    const top = await post('ListFHIRDatastores', `{"NextToken":${nested(DEEP_LEVELS)}}`);
    assert.equal(top.status, 400);
    assert.equal(((await top.json()) as { __type: string }).__type, 'SerializationException');
    assert.deepEqual(internalErrors, []);
  });

  it(`validates a body exactly ${MAX_JSON_DEPTH} levels deep as usual; one more is a SerializationException`, async () => {
    // The body is level 1 and the union level 2, so its member may nest MAX_JSON_DEPTH - 2 more.
    const deepest = importWithNestedMember(MAX_JSON_DEPTH - 2);
    assert.equal(jsonNestingDepth(deepest), MAX_JSON_DEPTH);
    const response = await post('StartFHIRImportJob', deepest);
    assert.equal(response.status, 400);
    const body = (await response.json()) as { __type: string; message: string };
    assert.equal(body.__type, 'ValidationException');
    assert.equal(
      body.message,
      `1 validation error detected: Value {"S3Uri":"s3://bucket/in/","Other":${nested(MAX_JSON_DEPTH - 2)}} ` +
        `at 'inputDataConfig' failed to satisfy constraint: Union must have exactly one member set, one of [S3Uri]`,
    );
    const tooDeep = await post('StartFHIRImportJob', importWithNestedMember(MAX_JSON_DEPTH - 1));
    assert.equal(tooDeep.status, 400);
    assert.equal(((await tooDeep.json()) as { __type: string }).__type, 'SerializationException');
  });

  it('does not count brackets inside strings', async () => {
    const response = await post(
      'CreateFHIRDatastore',
      JSON.stringify({ DatastoreTypeVersion: 'R4', DatastoreName: '['.repeat(200) }),
    );
    assert.equal(response.status, 400);
    const body = (await response.json()) as { __type: string; message: string };
    assert.equal(body.__type, 'ValidationException');
    assert.match(
      body.message,
      /^1 validation error detected: Value '\[{200}' at 'datastoreName' failed to satisfy constraint: Member must satisfy regular expression pattern/,
    );
  });

  it('answers the control API 400 for the same body', async () => {
    const response = await fetch(`${emulator.url}/_emulator/settings`, {
      method: 'PATCH',
      body: `{"speed":${nested(DEEP_LEVELS)}}`,
    });
    assert.equal(response.status, 400);
    assert.deepEqual(await response.json(), {
      error: `request body nests deeper than ${MAX_JSON_DEPTH} levels`,
    });
  });

  it('keeps serving well-formed requests', async () => {
    const response = await post('ListFHIRDatastores', '{}');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { DatastorePropertiesList: [] });
  });
});

describe('jsonNestingDepth', () => {
  it('counts objects and arrays, skips strings and escapes, stops past the limit', () => {
    assert.equal(jsonNestingDepth('{}'), 1);
    assert.equal(jsonNestingDepth('{"a":[{"b":[]}],"c":{}}'), 4);
    assert.equal(jsonNestingDepth('{"a":"[[[{{{\\"[[["}'), 1);
    assert.equal(jsonNestingDepth('1'), 0);
    assert.equal(jsonNestingDepth(nested(DEEP_LEVELS), 10), 11);
  });
});
