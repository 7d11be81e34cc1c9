// The deployable worker's configuration (worker/config.ts) and what a worker registers without
// S3_ENDPOINT: the landing activities, on the default S3 client (real AWS S3).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { S3Client } from '@aws-sdk/client-s3';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { HealthLake } from '@aws-sdk/client-healthlake';
import { createHealthLakeWorker } from '../worker';
import { awsClientsFor, readWorkerConfig, WorkerConfigError } from '../worker/config';
import { createLocalTestEnv, type LocalTestEnv } from '../worker/dev-server';
import { uniqueName } from './helpers/import-env';
import { quietTemporalRuntime } from './helpers/runtime';

describe('readWorkerConfig', () => {
  it('defaults', () => {
    const config = readWorkerConfig({});
    assert.deepEqual(config, {
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'healthlake-import',
      apiActivitiesPerSecond: 8,
      coalesceImportPolls: false,
      apiTaskQueueUnpolledFailAfterMs: 600_000,
      region: 'us-east-1',
      connectTimeoutMs: 30_000,
      awsCredentialsInEnv: false,
      connection: {},
      tuning: {},
      logLevel: 'WARN',
      logFormat: 'text',
      importsWaitingIntervalMs: 15_000,
    });
  });

  it('Temporal Cloud with an API key: TLS on (system roots), the key in connection, never in errors', () => {
    const config = readWorkerConfig({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_API_KEY: 'key-abc',
      TEMPORAL_GRPC_META_X_TEAM: 'imports',
    });
    assert.equal(config.address, 'ns.acct.tmprl.cloud:7233');
    assert.equal(config.namespace, 'ns.acct');
    assert.deepEqual(config.connection, { tls: true, apiKey: 'key-abc', metadata: { 'x-team': 'imports' } });
    assert.throws(
      () => readWorkerConfig({ TEMPORAL_API_KEY: 'two words' }),
      (err: unknown) =>
        err instanceof WorkerConfigError &&
        err.message === 'TEMPORAL_API_KEY "<redacted>" must be one token, no whitespace',
    );
  });

  it('tuning, log level and the metrics endpoint', () => {
    const config = readWorkerConfig({
      HEALTHLAKE_WORKER_MAX_CACHED_WORKFLOWS: '0',
      HEALTHLAKE_WORKER_MAX_CONCURRENT_ACTIVITIES: '20',
      HEALTHLAKE_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '10',
      TEMPORAL_LOG_LEVEL: 'INFO',
      HEALTHLAKE_METRICS_BIND: '0.0.0.0:9464',
    });
    assert.deepEqual(config.tuning, {
      maxCachedWorkflows: 0,
      maxConcurrentActivityTaskExecutions: 20,
      maxConcurrentWorkflowTaskExecutions: 10,
    });
    assert.equal(config.logLevel, 'INFO');
    assert.equal(config.metricsBindAddress, '0.0.0.0:9464');
  });

  it('a call budget per process and coalesced import polls, for hundreds of imports', () => {
    const config = readWorkerConfig({
      HEALTHLAKE_CALLS_PER_SECOND: '4.75',
      HEALTHLAKE_COALESCE_IMPORT_POLLS: 'true',
      HEALTHLAKE_API_ACTIVITIES_PER_SECOND: '40',
    });
    assert.deepEqual(
      {
        calls: config.healthLakeCallsPerSecond,
        coalesce: config.coalesceImportPolls,
        dispatches: config.apiActivitiesPerSecond,
      },
      { calls: 4.75, coalesce: true, dispatches: 40 },
    );
    assert.equal(readWorkerConfig({ HEALTHLAKE_COALESCE_IMPORT_POLLS: '0' }).coalesceImportPolls, false);
  });

  it('AWS_PROFILE (or a role) is a credential source: a local endpoint does not get test credentials', () => {
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE']) {
      const config = readWorkerConfig({ HEALTHLAKE_ENDPOINT: 'http://127.0.0.1:4566', [name]: 'x' });
      assert.equal(config.awsCredentialsInEnv, true, name);
      assert.equal(awsClientsFor(config).healthLakeConfig.credentials, undefined, name);
    }
    const local = awsClientsFor(readWorkerConfig({ HEALTHLAKE_ENDPOINT: 'http://127.0.0.1:4566' }));
    assert.deepEqual(local.healthLakeConfig.credentials, { accessKeyId: 'test', secretAccessKey: 'test' });
  });

  const BAD: ReadonlyArray<[Record<string, string>, string]> = [
    [{ TEMPORAL_ADDRESS: 'localhost' }, 'TEMPORAL_ADDRESS "localhost" must be host:port'],
    [
      { TEMPORAL_ADDRESS: 'localhost:99999' },
      'TEMPORAL_ADDRESS "localhost:99999" must have a port from 1 to 65535',
    ],
    [{ TEMPORAL_NAMESPACE: 'a b' }, 'TEMPORAL_NAMESPACE "a b" must be 1-1000 characters, no whitespace'],
    [
      { HEALTHLAKE_API_TASK_QUEUE: 'x y' },
      'HEALTHLAKE_API_TASK_QUEUE "x y" must be 1-1000 characters, no whitespace',
    ],
    [
      { HEALTHLAKE_API_ACTIVITIES_PER_SECOND: '0' },
      'HEALTHLAKE_API_ACTIVITIES_PER_SECOND "0" must be a number > 0',
    ],
    [{ HEALTHLAKE_CALLS_PER_SECOND: '-1' }, 'HEALTHLAKE_CALLS_PER_SECOND "-1" must be a number > 0'],
    [
      { HEALTHLAKE_COALESCE_IMPORT_POLLS: 'yes' },
      'HEALTHLAKE_COALESCE_IMPORT_POLLS "yes" must be true, false, 1 or 0',
    ],
    [
      { HEALTHLAKE_API_QUEUE_UNPOLLED_FAIL_AFTER_MS: '1.5' },
      'HEALTHLAKE_API_QUEUE_UNPOLLED_FAIL_AFTER_MS "1.5" must be a whole number ≥ 0',
    ],
    [
      { TEMPORAL_CONNECT_TIMEOUT_MS: 'soon' },
      'TEMPORAL_CONNECT_TIMEOUT_MS "soon" must be a whole number ≥ 1',
    ],
    [{ AWS_REGION: 'US East' }, 'AWS_REGION "US East" must be an AWS region name, e.g. us-east-1'],
    [
      { HEALTHLAKE_ENDPOINT: 'not-a-url' },
      'HEALTHLAKE_ENDPOINT "not-a-url" must be an http(s) URL, e.g. http://127.0.0.1:4566',
    ],
    [{ S3_ENDPOINT: 'ftp://x' }, 'S3_ENDPOINT "ftp://x" must be an http(s) URL, e.g. http://127.0.0.1:4566'],
    [{ TEMPORAL_TLS: 'yes' }, 'TEMPORAL_TLS "yes" must be true, false, 1 or 0'],
    [
      { TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' },
      'TEMPORAL_CONFIG_FILE "/nonexistent/temporal.toml" must be a readable TOML file',
    ],
    [
      { TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.pem' },
      'TEMPORAL_TLS_SERVER_CA_CERT_PATH "/nonexistent/ca.pem" must be a readable PEM file',
    ],
    [
      { TEMPORAL_TLS_CLIENT_KEY_DATA: 'not a key' },
      'TEMPORAL_TLS_CLIENT_KEY_DATA "<redacted>" must be PEM (-----BEGIN ...PRIVATE KEY-----)',
    ],
    [
      { TEMPORAL_TLS_CLIENT_CERT_DATA: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n' },
      'TEMPORAL_TLS_CLIENT_CERT_DATA "<inline PEM>" is a client certificate without its pair: set TEMPORAL_TLS_CLIENT_KEY_PATH (or _DATA) too',
    ],
    [
      { TEMPORAL_LOG_LEVEL: 'verbose' },
      'TEMPORAL_LOG_LEVEL "verbose" must be one of TRACE, DEBUG, INFO, WARN, ERROR',
    ],
    [
      { HEALTHLAKE_WORKER_MAX_CONCURRENT_ACTIVITIES: '0' },
      'HEALTHLAKE_WORKER_MAX_CONCURRENT_ACTIVITIES "0" must be a whole number ≥ 1',
    ],
    [
      { HEALTHLAKE_METRICS_BIND: '9464' },
      'HEALTHLAKE_METRICS_BIND "9464" must be host:port, e.g. 0.0.0.0:9464',
    ],
  ];
  for (const [env, message] of BAD) {
    it(`rejects ${Object.keys(env)[0]}=${Object.values(env)[0]}`, () => {
      assert.throws(
        () => readWorkerConfig(env),
        (err: unknown) => err instanceof WorkerConfigError && err.message === message,
      );
    });
  }
});

describe('a worker without S3_ENDPOINT', () => {
  let temporal: LocalTestEnv;
  let bundle: WorkflowBundle;
  before(async () => {
    quietTemporalRuntime();
    [temporal, bundle] = await Promise.all([
      createLocalTestEnv(),
      bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: silentLogger }),
    ]);
  });
  after(async () => {
    await temporal?.teardown();
  });

  it('worker/main.ts builds an S3 client for real S3 (no endpoint, the configured region)', async () => {
    const { s3 } = awsClientsFor(readWorkerConfig({ AWS_REGION: 'eu-west-1' }));
    assert.ok(s3 instanceof S3Client);
    assert.equal(s3.config.endpoint, undefined);
    assert.equal(await s3.config.region(), 'eu-west-1');
    s3.destroy();
  });

  it('createHealthLakeWorker with no s3 registers landFhirObjects (and the API-queue local activity)', async () => {
    const healthLake = new HealthLake({ region: 'us-east-1' });
    const worker = await createHealthLakeWorker({
      connection: temporal.env.nativeConnection,
      taskQueue: uniqueName('no-s3'),
      healthLakeConfig: { region: 'us-east-1' },
      healthLake,
      workflowBundle: bundle,
    });
    try {
      const registered = [...worker.main.options.activities.keys()];
      assert.ok(registered.includes('landFhirObjects'), registered.join(', '));
      assert.ok(registered.includes('healthLakeApiTaskQueue'), registered.join(', '));
    } finally {
      // A created worker holds native resources until it has run and shut down.
      await worker.runUntil(Promise.resolve());
      healthLake.destroy();
    }
  });
});

const silentLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
