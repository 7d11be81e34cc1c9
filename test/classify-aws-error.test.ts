// Table test of classifyAwsError: real SDK exception classes, raw service errors, network errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AccessDeniedException,
  ConflictException,
  DescribeFHIRDatastoreCommand,
  StartFHIRImportJobCommand,
  HealthLakeServiceException,
  InternalServerException,
  ResourceNotFoundException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-healthlake';
import { classifyAwsError } from '../activities/aws-errors';
import { startEmulator } from '../emulator/index';
import { healthLakeClientFor } from '../emulator/testing';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

function serviceError(name: string, status: number, fault: 'client' | 'server'): Error {
  return new HealthLakeServiceException({
    name,
    message: `${name} happened`,
    $fault: fault,
    ...meta(status),
  });
}

function networkError(code: string): Error {
  const cause = Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
  return new Error('socket failed', { cause });
}

describe('classifyAwsError', () => {
  const table: ReadonlyArray<[string, unknown, string, string | undefined]> = [
    [
      'ValidationException',
      new ValidationException({ message: 'bad', ...meta(400) }),
      'fail',
      'ValidationException',
    ],
    [
      'AccessDeniedException',
      new AccessDeniedException({ message: 'no', ...meta(403) }),
      'fail',
      'AccessDeniedException',
    ],
    [
      'ResourceNotFoundException',
      new ResourceNotFoundException({ message: 'gone', ...meta(404) }),
      'fail',
      'ResourceNotFoundException',
    ],
    [
      'ConflictException',
      new ConflictException({ message: 'token', ...meta(409) }),
      'fail',
      'ConflictException',
    ],
    [
      'ThrottlingException',
      new ThrottlingException({ message: 'slow', ...meta(400) }),
      'retry',
      'ThrottlingException',
    ],
    [
      'InternalServerException',
      new InternalServerException({ message: 'oops', ...meta(500) }),
      'retry',
      'InternalServerException',
    ],
    ['unmodelled 503', serviceError('ServiceUnavailable', 503, 'server'), 'retry', 'ServiceUnavailable'],
    ['unmodelled 502', serviceError('BadGateway', 502, 'server'), 'retry', 'BadGateway'],
    ['429 by status', serviceError('SlowDown', 429, 'client'), 'retry', 'SlowDown'],
    [
      'FailedDependencyException (newer model, 424)',
      serviceError('FailedDependencyException', 424, 'client'),
      'retry',
      'FailedDependencyException',
    ],
    [
      'unmodelled 4xx',
      serviceError('UnrecognizedClientException', 400, 'client'),
      'fail',
      'UnrecognizedClientException',
    ],
    ['ECONNREFUSED in cause', networkError('ECONNREFUSED'), 'retry', 'ECONNREFUSED'],
    ['ECONNRESET', Object.assign(new Error('reset'), { code: 'ECONNRESET' }), 'retry', 'ECONNRESET'],
    [
      'SDK TimeoutError',
      Object.assign(new Error('timed out'), { name: 'TimeoutError' }),
      'retry',
      'TimeoutError',
    ],
    ['AbortError', Object.assign(new Error('aborted'), { name: 'AbortError' }), 'aborted', undefined],
    ['programming error', new TypeError('x is undefined'), 'fail', 'TypeError'],
    ['a thrown string', 'boom', 'fail', 'Error'],
  ];
  for (const [label, err, kind, type] of table) {
    it(`${label} → ${kind}${type ? ` (${type})` : ''}`, () => {
      const decision = classifyAwsError(err);
      assert.equal(decision.kind, kind);
      if (type !== undefined) assert.equal('type' in decision ? decision.type : undefined, type);
      assert.ok(decision.message.length > 0);
    });
  }

  it('keeps the service message', () => {
    assert.deepEqual(
      classifyAwsError(new ValidationException({ message: 'DatastoreId is bad', ...meta(400) })),
      {
        kind: 'fail',
        type: 'ValidationException',
        message: 'DatastoreId is bad',
      },
    );
  });
});

describe('classifyAwsError on errors as the emulator sends them through the real SDK', () => {
  it('ThrottlingException (HTTP 400) and FailedDependencyException (HTTP 424) both retry', async () => {
    const emulator = await startEmulator({ preset: 'fast', s3Endpoint: 'http://127.0.0.1:9' });
    const healthLake = healthLakeClientFor(emulator, 1);
    try {
      emulator.faults.set('DescribeFHIRDatastore', { throttleRate: 1 });
      emulator.faults.set('StartFHIRImportJob', { failedDependencyRate: 1 });
      const throttled = await healthLake
        .send(new DescribeFHIRDatastoreCommand({ DatastoreId: 'a'.repeat(32) }))
        .then(
          () => assert.fail('throttled'),
          (err: unknown) => err as HealthLakeServiceException,
        );
      assert.equal(throttled.name, 'ThrottlingException');
      assert.equal(throttled.$metadata.httpStatusCode, 400);
      assert.deepEqual(classifyAwsError(throttled), {
        kind: 'retry',
        type: 'ThrottlingException',
        message: 'Rate exceeded (injected fault on DescribeFHIRDatastore)',
      });
      const failedDependency = await healthLake
        .send(
          new StartFHIRImportJobCommand({
            DatastoreId: 'a'.repeat(32),
            InputDataConfig: { S3Uri: 's3://input-bucket/fhir/' },
            JobOutputDataConfig: {
              S3Configuration: { S3Uri: 's3://output-bucket/out/', KmsKeyId: 'alias/k' },
            },
            DataAccessRoleArn: 'arn:aws:iam::123456789012:role/HealthLakeImport',
          }),
        )
        .then(
          () => assert.fail('failed dependency'),
          (err: unknown) => err as HealthLakeServiceException,
        );
      assert.equal(failedDependency.name, 'FailedDependencyException');
      assert.equal(failedDependency.$metadata.httpStatusCode, 424);
      assert.deepEqual(classifyAwsError(failedDependency), {
        kind: 'retry',
        type: 'FailedDependencyException',
        message: 'A dependency of StartFHIRImportJob failed (injected fault on StartFHIRImportJob)',
      });
    } finally {
      healthLake.destroy();
      await emulator.stop();
    }
  });
});
