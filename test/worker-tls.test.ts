// The deployable worker reaches a server over TLS the way it reaches Temporal Cloud or a TLS-enabled
// cluster: Temporal's own variables (TEMPORAL_TLS_*, TEMPORAL_API_KEY) or a TOML profile, a server
// certificate checked against a CA, and a client certificate (mTLS). The dev server has no TLS, so a
// TLS-terminating proxy with certificates generated here stands in front of it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFhirImport } from '../client';
import { startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import { generateTestPki, startTlsProxy, type TestPki, type TlsProxy } from './helpers/tls-proxy';
import { nonEmptyLines, WorkerProcess } from './helpers/worker-process';

let stack: ImportTestStack;
let pki: TestPki;
let mtls: TlsProxy;
before(async () => {
  pki = generateTestPki();
  stack = await startImportTestStack();
  mtls = await startTlsProxy({ target: stack.temporal.server!.address, pki, requireClientCert: true });
});
after(async () => {
  await mtls?.close();
  await stack?.stop();
  pki?.remove();
});

/** What a worker needs besides the Temporal connection: the emulator and a task queue. */
function baseEnv(taskQueue: string): Record<string, string> {
  const { TEMPORAL_ADDRESS: _address, ...env } = stack.workerProcessEnv(taskQueue);
  return env;
}

describe('worker/main.ts over TLS', () => {
  it('mTLS with a client certificate: the worker completes an import through the TLS proxy', async () => {
    const datastoreId = await stack.newDatastore('tls');
    const data = await stack.land('tls', 2);
    const taskQueue = uniqueName('tls');
    const worker = new WorkerProcess({
      ...baseEnv(taskQueue),
      TEMPORAL_ADDRESS: mtls.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
    });
    try {
      const ready = await worker.line('healthlake worker ready:');
      assert.equal(
        ready,
        `healthlake worker ready: ${mtls.address} namespace default task queues ${taskQueue}, ` +
          `${taskQueue}-healthlake-api HealthLake endpoint ${stack.local.emulator.url} (TLS)`,
      );
      const handle = await startFhirImport(stack.temporal.env.client, {
        callerKey: taskQueue,
        taskQueue,
        input: stack.input(datastoreId, 'tls'),
      });
      const result = await handle.result();
      assert.equal(result.status, 'COMPLETED');
      assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
      assert.ok(mtls.authorizedConnections() >= 1, `${mtls.authorizedConnections()} TLS connections`);
      assert.equal(mtls.failedHandshakes(), 0);
    } finally {
      const exit = await worker.stop();
      assert.equal(exit.code, 0, exit.stderr);
    }
  });

  it('an API key, a client key and an AWS secret never appear in the output, even at DEBUG', async () => {
    const datastoreId = await stack.newDatastore('secrets');
    await stack.land('secrets', 1);
    const taskQueue = uniqueName('secrets');
    const apiKey = `tmprl-api-key-${taskQueue}`;
    const awsSecret = `aws-secret-${taskQueue}`;
    const clientKey = readFileSync(pki.clientKey, 'utf8');
    const worker = new WorkerProcess({
      ...baseEnv(taskQueue),
      TEMPORAL_ADDRESS: mtls.address,
      TEMPORAL_API_KEY: apiKey,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.caCert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_DATA: clientKey,
      AWS_ACCESS_KEY_ID: 'AKIAHEALTHLAKETEST01',
      AWS_SECRET_ACCESS_KEY: awsSecret,
      TEMPORAL_LOG_LEVEL: 'DEBUG',
    });
    let output: string;
    try {
      const ready = await worker.line('healthlake worker ready:');
      assert.ok(ready.endsWith('(TLS, API key)'), ready);
      const handle = await startFhirImport(stack.temporal.env.client, {
        callerKey: taskQueue,
        taskQueue,
        input: stack.input(datastoreId, 'secrets'),
      });
      assert.equal((await handle.result()).status, 'COMPLETED');
    } finally {
      const exit = await worker.stop();
      assert.equal(exit.code, 0, exit.stderr);
      output = exit.stdout + exit.stderr;
    }
    // DEBUG logging did log (the check below is not vacuous), and none of it holds a secret.
    assert.ok(output.includes('[DEBUG]'), output.slice(0, 2_000));
    const keyBody = clientKey.split('\n')[1]!;
    for (const [what, secret] of [
      ['TEMPORAL_API_KEY', apiKey],
      ['AWS_SECRET_ACCESS_KEY', awsSecret],
      ['the client key', keyBody],
    ] as const) {
      assert.equal(output.includes(secret), false, `${what} appears in the worker's output`);
    }
  });

  it('a TOML profile (TEMPORAL_CONFIG_FILE + TEMPORAL_PROFILE) with inline PEM data: ready over TLS', async () => {
    const file = join(pki.dir, 'temporal.toml');
    const pem = (path: string) => JSON.stringify(readFileSync(path, 'utf8'));
    writeFileSync(
      file,
      [
        '[profile.default]',
        'address = "127.0.0.1:1"',
        '[profile.tls-proxy]',
        `address = "${mtls.address}"`,
        'namespace = "default"',
        '[profile.tls-proxy.tls]',
        `server_ca_cert_data = ${pem(pki.caCert)}`,
        `client_cert_data = ${pem(pki.clientCert)}`,
        `client_key_data = ${pem(pki.clientKey)}`,
        '',
      ].join('\n'),
    );
    const taskQueue = uniqueName('tls-profile');
    const worker = new WorkerProcess({
      ...baseEnv(taskQueue),
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'tls-proxy',
    });
    try {
      const ready = await worker.line('healthlake worker ready:');
      assert.match(
        ready,
        new RegExp(`^healthlake worker ready: ${mtls.address} namespace default .* \\(TLS\\)$`),
      );
    } finally {
      const exit = await worker.stop();
      assert.equal(exit.code, 0, exit.stderr);
    }
  });

  it('a CA that did not sign the server certificate: exit 1 at once, one line', async () => {
    const worker = new WorkerProcess({
      ...baseEnv(uniqueName('tls-wrong-ca')),
      TEMPORAL_ADDRESS: mtls.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pki.otherCaCert,
      TEMPORAL_TLS_CLIENT_CERT_PATH: pki.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: pki.clientKey,
      // Far beyond the test's limit: a certificate error must not be retried until the timeout.
      TEMPORAL_CONNECT_TIMEOUT_MS: '600000',
    });
    const exit = await worker.exit();
    assert.equal(exit.code, 1, exit.stderr);
    const lines = nonEmptyLines(exit.stderr);
    assert.equal(lines.length, 1, exit.stderr);
    assert.match(
      lines[0]!,
      new RegExp(
        `^healthlake worker: TLS connection to ${mtls.address} failed \\(check TEMPORAL_TLS_SERVER_CA_CERT_PATH, ` +
          'TEMPORAL_TLS_SERVER_NAME and the client certificate\\): .*(UnknownIssuer|certificate)',
      ),
    );
  });
});
