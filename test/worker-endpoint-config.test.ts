// The deployable worker (`worker/main.ts`) checks HEALTHLAKE_ENDPOINT and S3_ENDPOINT before it
// connects anywhere: a bad value exits 2 with one line naming the variable, the value and the rule.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { checkHttpEndpoint, EndpointConfigError } from '../worker/endpoint-config';

const WORKER_MAIN = resolve(__dirname, '..', 'worker', 'main.ts');
/** A Temporal address nothing listens on: the worker must fail before it gets that far. */
const NOWHERE = '127.0.0.1:9';
const HANG_GUARD_MS = 30_000;

async function runWorker(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_MAIN], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      TEMPORAL_ADDRESS: NOWHERE,
      HEALTHLAKE_ENDPOINT: '',
      S3_ENDPOINT: '',
      ...env,
    },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const hung = setTimeout(() => child.kill('SIGKILL'), HANG_GUARD_MS);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(hung);
  return { code, signal, stderrLines: stderr.split('\n').filter((line) => line !== '') };
}

describe('worker/main.ts endpoint variables', () => {
  const cases: [Record<string, string>, string][] = [
    [
      { HEALTHLAKE_ENDPOINT: 'not-a-url' },
      'healthlake worker: HEALTHLAKE_ENDPOINT "not-a-url" must be an http(s) URL, e.g. http://127.0.0.1:4566',
    ],
    [
      { S3_ENDPOINT: 's3://bucket' },
      'healthlake worker: S3_ENDPOINT "s3://bucket" must be an http(s) URL, e.g. http://127.0.0.1:4566',
    ],
  ];
  for (const [env, line] of cases) {
    it(`exits 2 at start for ${JSON.stringify(env)}`, async () => {
      const { code, signal, stderrLines } = await runWorker(env);
      assert.deepEqual({ code, signal }, { code: 2, signal: null });
      assert.deepEqual(stderrLines, [line]);
    });
  }
});

describe('checkHttpEndpoint', () => {
  it('accepts http(s) URLs and unset values, rejects anything else naming the source, value and rule', () => {
    assert.equal(checkHttpEndpoint('S3_ENDPOINT', 'http://127.0.0.1:4566'), 'http://127.0.0.1:4566');
    assert.equal(checkHttpEndpoint('S3_ENDPOINT', 'https://s3.example.com/'), 'https://s3.example.com/');
    assert.equal(checkHttpEndpoint('S3_ENDPOINT', undefined), undefined);
    assert.equal(checkHttpEndpoint('S3_ENDPOINT', ''), undefined);
    for (const value of ['not-a-url', 'localhost:4566', 'ftp://host', 'http://', 's3://bucket/prefix']) {
      assert.throws(
        () => checkHttpEndpoint('--s3-endpoint', value),
        (err: unknown) =>
          err instanceof EndpointConfigError &&
          err.source === '--s3-endpoint' &&
          err.value === value &&
          err.message ===
            `--s3-endpoint ${JSON.stringify(value)} must be an http(s) URL, e.g. http://127.0.0.1:4566`,
        value,
      );
    }
  });
});
