// The emulator follows the current botocore HealthLake model (1.44) where it goes beyond the JS SDK
// this project uses (3.1048): StartFHIRImportJob's newer members are type-checked, stored with the
// job (across restarts) and described back; clients that know them (boto3 1.44, raw HTTP) see them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateFHIRDatastoreCommand, type HealthLakeClient } from '@aws-sdk/client-healthlake';
import { startEmulator, type EmulatorHandle } from '../emulator/index';
import { healthLakeClientFor, waitForDatastore } from '../emulator/testing';

const NEWER_MEMBERS = {
  ProfileId: 'us-core-6.1.0',
  InputFormat: 'FHIR_R4',
  DriftDetectionEnabled: true,
  ProvenanceEnabled: false,
} as const;

describe('StartFHIRImportJob members of the newer model', () => {
  let dataDir: string;
  let emulator: EmulatorHandle;
  let healthLake: HealthLakeClient;
  let datastoreId: string;

  /** One awsJson1_0 call over plain HTTP, as any language's client makes it. */
  async function call(
    operation: string,
    body: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(emulator.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `HealthLake.${operation}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }
  const start = (extra: Record<string, unknown>) =>
    call('StartFHIRImportJob', {
      InputDataConfig: { S3Uri: 's3://input-bucket/fhir/' },
      JobOutputDataConfig: {
        S3Configuration: { S3Uri: 's3://output-bucket/out/', KmsKeyId: 'alias/healthlake' },
      },
      DatastoreId: datastoreId,
      DataAccessRoleArn: 'arn:aws:iam::123456789012:role/HealthLakeImport',
      ...extra,
    });

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'emulator-model-'));
    // No S3 behind it: the jobs fail at their first read, which does not matter for what is stored.
    emulator = await startEmulator({
      preset: 'fast',
      s3Endpoint: 'http://127.0.0.1:9',
      dataDir,
      onError: () => {},
    });
    healthLake = healthLakeClientFor(emulator);
    ({ DatastoreId: datastoreId } = (await healthLake.send(
      new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4' }),
    )) as { DatastoreId: string });
    await waitForDatastore(healthLake, datastoreId);
  });
  after(async () => {
    healthLake.destroy();
    await emulator.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores ProfileId, InputFormat, DriftDetectionEnabled, ProvenanceEnabled and describes them back, also after a restart', async () => {
    const started = await start(NEWER_MEMBERS);
    assert.equal(started.status, 200);
    const jobId = started.json.JobId as string;
    const describe = async () => {
      const described = await call('DescribeFHIRImportJob', { DatastoreId: datastoreId, JobId: jobId });
      assert.equal(described.status, 200);
      const properties = described.json.ImportJobProperties as Record<string, unknown>;
      return Object.fromEntries(Object.keys(NEWER_MEMBERS).map((name) => [name, properties[name]]));
    };
    assert.deepEqual(await describe(), NEWER_MEMBERS);

    await emulator.stop();
    emulator = await startEmulator({
      preset: 'fast',
      s3Endpoint: 'http://127.0.0.1:9',
      dataDir,
      onError: () => {},
    });
    assert.deepEqual(await describe(), NEWER_MEMBERS);
  });

  it('a job started without them describes none of them', async () => {
    const started = await start({});
    const described = await call('DescribeFHIRImportJob', {
      DatastoreId: datastoreId,
      JobId: started.json.JobId,
    });
    const properties = described.json.ImportJobProperties as Record<string, unknown>;
    assert.deepEqual(
      Object.keys(NEWER_MEMBERS).filter((name) => name in properties),
      [],
    );
  });

  it('refuses a wrong JSON type or an empty string, naming the member', async () => {
    assert.deepEqual(await start({ DriftDetectionEnabled: 'yes' }), {
      status: 400,
      json: {
        __type: 'SerializationException',
        message: "Value at 'driftDetectionEnabled' must be a boolean, got string",
      },
    });
    assert.deepEqual(await start({ ProfileId: '' }), {
      status: 400,
      json: {
        __type: 'ValidationException',
        message:
          "1 validation error detected: Value '' at 'profileId' failed to satisfy constraint: Member must have length greater than or equal to 1",
      },
    });
  });
});
