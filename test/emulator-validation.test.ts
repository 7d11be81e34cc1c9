// Service-side validation and bad input: every modelled constraint of HealthLake's inputs answered
// with a ValidationException naming the field, the value and the rule (through the real SDK), and
// malformed HTTP requests answered with AWS-style errors instead of a crash or a hung request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateFHIRDatastoreCommand,
  DeleteFHIRDatastoreCommand,
  DescribeFHIRDatastoreCommand,
  DescribeFHIRImportJobCommand,
  HealthLakeClient,
  ListFHIRDatastoresCommand,
  ListFHIRImportJobsCommand,
  ListTagsForResourceCommand,
  StartFHIRExportJobCommand,
  StartFHIRImportJobCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-healthlake';
import { startEmulator, type EmulatorHandle } from '../emulator/index';
import { healthLakeClientFor } from '../emulator/testing';
import { expectServiceError } from './helpers/service-error';

const NAME = '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-%@]*)$';
const TAG = '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$';
const ROLE_PATTERN = '^arn:aws(-[^:]+)?:iam::[0-9]{12}:role/.+$';
const S3_PATTERN = '^s3://[a-z0-9][\\.\\-a-z0-9]{1,61}[a-z0-9](/.*)?$';
const KMS_PATTERN =
  '(arn:aws((-us-gov)|(-iso)|(-iso-b)|(-cn))?:kms:)?([a-z]{2}-[a-z]+(-[a-z]+)?-\\d:)?(\\d{12}:)?(((key/)?[a-zA-Z0-9-_]+)|(alias/[a-zA-Z0-9:/_-]+))';
const ARN_PATTERN =
  '^arn:aws((-us-gov)|(-iso)|(-iso-b)|(-cn))?:healthlake:[a-zA-Z0-9-]+:[0-9]{12}:datastore/.+?';
const ROLE = 'arn:aws:iam::123456789012:role/HealthLakeImport';
const KMS = 'alias/healthlake';
const ID = 'a'.repeat(32);

const v = (value: string | number, path: string, rule: string): string =>
  `Value ${typeof value === 'string' ? `'${value}'` : value} at '${path}' failed to satisfy constraint: ${rule}`;
const isNull = (path: string): string =>
  `Value null at '${path}' failed to satisfy constraint: Member must not be null`;
const minLength = (value: string, path: string, n: number) =>
  v(value, path, `Member must have length greater than or equal to ${n}`);
const maxLength = (value: string, path: string, n: number) =>
  v(value, path, `Member must have length less than or equal to ${n}`);
const pattern = (value: string, path: string, p: string) =>
  v(value, path, `Member must satisfy regular expression pattern: ${p}`);
const oneOf = (value: string, path: string, values: string) =>
  v(value, path, `Member must satisfy enum value set: [${values}]`);
const errors = (...messages: string[]): string =>
  `${messages.length === 1 ? '1 validation error' : `${messages.length} validation errors`} detected: ${messages.join('; ')}`;

const importJob = {
  DatastoreId: ID,
  InputDataConfig: { S3Uri: 's3://bucket/in/' },
  JobOutputDataConfig: { S3Configuration: { S3Uri: 's3://bucket/out/', KmsKeyId: KMS } },
  DataAccessRoleArn: ROLE,
};
const datastoreArn = `arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/${ID}`;

/** [case name, send it, expected message]. Every one must come back as ValidationException. */
const CASES: [string, (c: HealthLakeClient) => Promise<unknown>, string][] = [
  [
    'create: DatastoreTypeVersion missing',
    (c) => c.send(new CreateFHIRDatastoreCommand({} as never)),
    errors(isNull('datastoreTypeVersion')),
  ],
  [
    'create: DatastoreTypeVersion not an enum value',
    (c) => c.send(new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R5' as never })),
    errors(oneOf('R5', 'datastoreTypeVersion', 'R4')),
  ],
  [
    'create: DatastoreName empty',
    (c) => c.send(new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4', DatastoreName: '' })),
    errors(minLength('', 'datastoreName', 1)),
  ],
  [
    'create: DatastoreName too long',
    (c) =>
      c.send(new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4', DatastoreName: 'n'.repeat(257) })),
    errors(maxLength('n'.repeat(257), 'datastoreName', 256)),
  ],
  [
    'create: DatastoreName pattern',
    (c) => c.send(new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4', DatastoreName: 'bad#name' })),
    errors(pattern('bad#name', 'datastoreName', NAME)),
  ],
  [
    'create: ClientToken pattern',
    (c) => c.send(new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4', ClientToken: 'has space' })),
    errors(pattern('has space', 'clientToken', '^[a-zA-Z0-9-]+$')),
  ],
  [
    'create: ClientToken too long',
    (c) =>
      c.send(new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4', ClientToken: 't'.repeat(65) })),
    errors(maxLength('t'.repeat(65), 'clientToken', 64)),
  ],
  [
    'create: CmkType not an enum value',
    (c) =>
      c.send(
        new CreateFHIRDatastoreCommand({
          DatastoreTypeVersion: 'R4',
          SseConfiguration: { KmsEncryptionConfig: { CmkType: 'NOPE' as never } },
        }),
      ),
    errors(
      oneOf(
        'NOPE',
        'sseConfiguration.kmsEncryptionConfig.cmkType',
        'AWS_OWNED_KMS_KEY, CUSTOMER_MANAGED_KMS_KEY',
      ),
    ),
  ],
  [
    'create: CmkType missing',
    (c) =>
      c.send(
        new CreateFHIRDatastoreCommand({
          DatastoreTypeVersion: 'R4',
          SseConfiguration: { KmsEncryptionConfig: {} as never },
        }),
      ),
    errors(isNull('sseConfiguration.kmsEncryptionConfig.cmkType')),
  ],
  [
    'create: PreloadDataType not an enum value',
    (c) =>
      c.send(
        new CreateFHIRDatastoreCommand({
          DatastoreTypeVersion: 'R4',
          PreloadDataConfig: { PreloadDataType: 'OTHER' as never },
        }),
      ),
    errors(oneOf('OTHER', 'preloadDataConfig.preloadDataType', 'SYNTHEA')),
  ],
  [
    'create: more than 200 tags',
    (c) =>
      c.send(
        new CreateFHIRDatastoreCommand({
          DatastoreTypeVersion: 'R4',
          Tags: Array.from({ length: 201 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })),
        }),
      ),
    `1 validation error detected: Value ${JSON.stringify(Array.from({ length: 201 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })))} at 'tags' failed to satisfy constraint: Member must have length less than or equal to 200`,
  ],
  [
    'create: empty tag key',
    (c) =>
      c.send(new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4', Tags: [{ Key: '', Value: 'v' }] })),
    errors(minLength('', 'tags.1.member.key', 1)),
  ],
  [
    'create: AuthorizationStrategy not an enum value',
    (c) =>
      c.send(
        new CreateFHIRDatastoreCommand({
          DatastoreTypeVersion: 'R4',
          IdentityProviderConfiguration: { AuthorizationStrategy: 'OPEN' as never },
        }),
      ),
    errors(
      oneOf(
        'OPEN',
        'identityProviderConfiguration.authorizationStrategy',
        'AWS_AUTH, SMART_ON_FHIR_V1, SMART_ON_FHIR',
      ),
    ),
  ],
  [
    'create: IdpLambdaArn too short and off pattern',
    (c) =>
      c.send(
        new CreateFHIRDatastoreCommand({
          DatastoreTypeVersion: 'R4',
          IdentityProviderConfiguration: {
            AuthorizationStrategy: 'SMART_ON_FHIR',
            IdpLambdaArn: 'arn:short',
          },
        }),
      ),
    errors(
      minLength('arn:short', 'identityProviderConfiguration.idpLambdaArn', 49),
      pattern(
        'arn:short',
        'identityProviderConfiguration.idpLambdaArn',
        'arn:aws[-a-z]*:lambda:[a-z]{2}-[a-z]+-\\d{1}:\\d{12}:function:[a-zA-Z0-9\\-_\\.]+(:(\\$LATEST|[a-zA-Z0-9\\-_]+))?',
      ),
    ),
  ],
  [
    'describe: DatastoreId missing',
    (c) => c.send(new DescribeFHIRDatastoreCommand({} as never)),
    errors(isNull('datastoreId')),
  ],
  [
    'describe: DatastoreId too long',
    (c) => c.send(new DescribeFHIRDatastoreCommand({ DatastoreId: 'd'.repeat(33) })),
    errors(maxLength('d'.repeat(33), 'datastoreId', 32)),
  ],
  [
    'delete: DatastoreId pattern',
    (c) => c.send(new DeleteFHIRDatastoreCommand({ DatastoreId: 'bad!id' })),
    errors(pattern('bad!id', 'datastoreId', NAME)),
  ],
  [
    'list data stores: MaxResults 0',
    (c) => c.send(new ListFHIRDatastoresCommand({ MaxResults: 0 })),
    errors(v(0, 'maxResults', 'Member must have value greater than or equal to 1')),
  ],
  [
    'list data stores: MaxResults 501',
    (c) => c.send(new ListFHIRDatastoresCommand({ MaxResults: 501 })),
    errors(v(501, 'maxResults', 'Member must have value less than or equal to 500')),
  ],
  [
    'list data stores: status filter not an enum value',
    (c) => c.send(new ListFHIRDatastoresCommand({ Filter: { DatastoreStatus: 'GONE' as never } })),
    errors(oneOf('GONE', 'filter.datastoreStatus', 'ACTIVE, CREATE_FAILED, CREATING, DELETED, DELETING')),
  ],
  [
    'list data stores: NextToken not issued by the service',
    (c) => c.send(new ListFHIRDatastoresCommand({ NextToken: 'garbage' })),
    "Value 'garbage' at 'nextToken' failed to satisfy constraint: Member must be a NextToken returned by a previous call with the same filters",
  ],
  [
    'start import: every required member missing',
    (c) => c.send(new StartFHIRImportJobCommand({} as never)),
    errors(
      isNull('inputDataConfig'),
      isNull('jobOutputDataConfig'),
      isNull('datastoreId'),
      isNull('dataAccessRoleArn'),
    ),
  ],
  [
    'start import: S3Uri pattern',
    (c) =>
      c.send(
        new StartFHIRImportJobCommand({ ...importJob, InputDataConfig: { S3Uri: 'http://bucket/in/' } }),
      ),
    errors(pattern('http://bucket/in/', 'inputDataConfig.s3Uri', S3_PATTERN)),
  ],
  [
    'start import: InputDataConfig union with no member',
    (c) => c.send(new StartFHIRImportJobCommand({ ...importJob, InputDataConfig: {} as never })),
    "1 validation error detected: Value {} at 'inputDataConfig' failed to satisfy constraint: Union must have exactly one member set, one of [S3Uri]",
  ],
  [
    'start import: role ARN pattern',
    (c) =>
      c.send(new StartFHIRImportJobCommand({ ...importJob, DataAccessRoleArn: 'arn:aws:iam::123:role/x' })),
    errors(pattern('arn:aws:iam::123:role/x', 'dataAccessRoleArn', ROLE_PATTERN)),
  ],
  [
    'start import: role ARN too short and off pattern',
    (c) => c.send(new StartFHIRImportJobCommand({ ...importJob, DataAccessRoleArn: 'short' })),
    errors(minLength('short', 'dataAccessRoleArn', 20), pattern('short', 'dataAccessRoleArn', ROLE_PATTERN)),
  ],
  [
    'start import: ValidationLevel not an enum value',
    (c) => c.send(new StartFHIRImportJobCommand({ ...importJob, ValidationLevel: 'lenient' as never })),
    errors(oneOf('lenient', 'validationLevel', 'minimal, strict, structure-only')),
  ],
  [
    'start import: KmsKeyId missing',
    (c) =>
      c.send(
        new StartFHIRImportJobCommand({
          ...importJob,
          JobOutputDataConfig: { S3Configuration: { S3Uri: 's3://bucket/out/' } as never },
        }),
      ),
    errors(isNull('jobOutputDataConfig.s3Configuration.kmsKeyId')),
  ],
  [
    'start import: JobName too long',
    (c) => c.send(new StartFHIRImportJobCommand({ ...importJob, JobName: 'j'.repeat(65) })),
    errors(maxLength('j'.repeat(65), 'jobName', 64)),
  ],
  [
    'start export: KmsKeyId empty',
    (c) =>
      c.send(
        new StartFHIRExportJobCommand({
          DatastoreId: ID,
          DataAccessRoleArn: ROLE,
          OutputDataConfig: { S3Configuration: { S3Uri: 's3://bucket/out/', KmsKeyId: '' } },
        }),
      ),
    errors(
      minLength('', 'outputDataConfig.s3Configuration.kmsKeyId', 1),
      pattern('', 'outputDataConfig.s3Configuration.kmsKeyId', KMS_PATTERN),
    ),
  ],
  [
    'describe import: JobId missing',
    (c) => c.send(new DescribeFHIRImportJobCommand({ DatastoreId: ID } as never)),
    errors(isNull('jobId')),
  ],
  [
    'list imports: JobStatus not an enum value',
    (c) => c.send(new ListFHIRImportJobsCommand({ DatastoreId: ID, JobStatus: 'DONE' as never })),
    errors(
      oneOf(
        'DONE',
        'jobStatus',
        'CANCEL_COMPLETED, CANCEL_FAILED, CANCEL_IN_PROGRESS, CANCEL_SUBMITTED, COMPLETED, COMPLETED_WITH_ERRORS, FAILED, IN_PROGRESS, QUEUED, SUBMITTED',
      ),
    ),
  ],
  [
    'tag: ResourceARN not a HealthLake ARN',
    (c) => c.send(new TagResourceCommand({ ResourceARN: 'arn:aws:s3:::bucket', Tags: [] })),
    errors(pattern('arn:aws:s3:::bucket', 'resourceARN', ARN_PATTERN)),
  ],
  [
    'tag: value too long',
    (c) =>
      c.send(
        new TagResourceCommand({ ResourceARN: datastoreArn, Tags: [{ Key: 'k', Value: 'x'.repeat(257) }] }),
      ),
    errors(maxLength('x'.repeat(257), 'tags.1.member.value', 256)),
  ],
  [
    'tag: key off pattern',
    (c) => c.send(new TagResourceCommand({ ResourceARN: datastoreArn, Tags: [{ Key: 'k#1', Value: 'v' }] })),
    errors(pattern('k#1', 'tags.1.member.key', TAG)),
  ],
  [
    'untag: empty key',
    (c) => c.send(new UntagResourceCommand({ ResourceARN: datastoreArn, TagKeys: [''] })),
    errors(minLength('', 'tagKeys.1.member', 1)),
  ],
  [
    'list tags: ResourceARN missing',
    (c) => c.send(new ListTagsForResourceCommand({} as never)),
    errors(isNull('resourceARN')),
  ],
];

describe('service-side validation through the real SDK', () => {
  let emulator: EmulatorHandle;
  let healthLake: HealthLakeClient;
  before(async () => {
    // Jobs never start here (every request is invalid), so no S3 server is needed.
    emulator = await startEmulator({
      preset: 'fast',
      s3Endpoint: 'http://127.0.0.1:9',
      quotas: { describeList: { ratePerSecond: 1000, burst: 1000 } },
    });
    healthLake = healthLakeClientFor(emulator, 1);
  });
  after(async () => {
    healthLake.destroy();
    await emulator.stop();
  });

  it(`has at least 25 cases (${CASES.length})`, () => assert.ok(CASES.length >= 25));
  for (const [name, send, message] of CASES) {
    it(name, async () => {
      const err = await expectServiceError(send(healthLake), 'ValidationException', message);
      assert.equal(err.$metadata.httpStatusCode, 400);
    });
  }
});

describe('bad HTTP input gets an AWS-style error', () => {
  let emulator: EmulatorHandle;
  before(async () => {
    emulator = await startEmulator({ preset: 'fast', s3Endpoint: 'http://127.0.0.1:9', maxBodyBytes: 1024 });
  });
  after(async () => {
    await emulator.stop();
  });

  const post = (body: string, headers: Record<string, string>, method = 'POST', path = '/') =>
    fetch(`${emulator.url}${path}`, { method, body: method === 'GET' ? undefined : body, headers });
  const json = { 'content-type': 'application/x-amz-json-1.0' };
  const target = (op: string) => ({ ...json, 'x-amz-target': `HealthLake.${op}` });

  const cases: [string, () => Promise<Response>, number, string, string][] = [
    [
      'malformed JSON',
      () => post('{"DatastoreId":', target('DescribeFHIRDatastore')),
      400,
      'SerializationException',
      'Request body of DescribeFHIRDatastore is not valid JSON',
    ],
    [
      'a JSON array body',
      () => post('[]', target('ListFHIRDatastores')),
      400,
      'SerializationException',
      'Request body of ListFHIRDatastores must be a JSON object',
    ],
    [
      'a string where a string list belongs',
      () => post('{"ResourceARN":"x","TagKeys":"k"}', target('UntagResource')),
      400,
      'SerializationException',
      "Value at 'tagKeys' must be a list, got string",
    ],
    [
      'a string timestamp',
      () => post(`{"DatastoreId":"${ID}","SubmittedAfter":"yesterday"}`, target('ListFHIRImportJobs')),
      400,
      'SerializationException',
      "Value at 'submittedAfter' must be epoch seconds (a number), got string",
    ],
    [
      'a union with two members',
      () =>
        post(
          JSON.stringify({ ...importJob, InputDataConfig: { S3Uri: 's3://bucket/a', Other: 'x' } }),
          target('StartFHIRImportJob'),
        ),
      400,
      'ValidationException',
      `1 validation error detected: Value {"S3Uri":"s3://bucket/a","Other":"x"} at 'inputDataConfig' failed to satisfy constraint: Union must have exactly one member set, one of [S3Uri]`,
    ],
    [
      'unknown X-Amz-Target',
      () => post('{}', target('CancelFHIRImportJob')),
      400,
      'UnknownOperationException',
      "X-Amz-Target 'HealthLake.CancelFHIRImportJob' is not a HealthLake operation",
    ],
    [
      'missing X-Amz-Target',
      () => post('{}', json),
      400,
      'UnknownOperationException',
      'Missing X-Amz-Target header',
    ],
    [
      'wrong content type',
      () =>
        post('{}', { 'content-type': 'application/json', 'x-amz-target': 'HealthLake.ListFHIRDatastores' }),
      415,
      'UnsupportedMediaTypeException',
      "Content-Type 'application/json' is not supported; HealthLake (awsJson1_0) needs 'application/x-amz-json-1.0'",
    ],
    [
      'oversized body',
      () => post(`{"DatastoreName":"${'x'.repeat(4096)}"}`, target('CreateFHIRDatastore')),
      413,
      'RequestEntityTooLargeException',
      'Request body exceeds 1024 bytes',
    ],
    [
      'GET instead of POST',
      () => post('', {}, 'GET'),
      400,
      'UnknownOperationException',
      'GET / is not a HealthLake endpoint; send POST /',
    ],
  ];
  for (const [name, send, status, type, message] of cases) {
    it(name, async () => {
      const response = await send();
      assert.equal(response.status, status);
      assert.equal(response.headers.get('content-type'), 'application/x-amz-json-1.0');
      assert.ok(response.headers.get('x-amzn-requestid'));
      assert.deepEqual(await response.json(), { __type: type, message });
    });
  }

  it('still serves well-formed requests after all of that', async () => {
    const response = await post('{}', target('ListFHIRDatastores'));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { DatastorePropertiesList: [] });
  });
});
