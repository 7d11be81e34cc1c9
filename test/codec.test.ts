// The AES-GCM payload codec: round trip, tampering and unknown keys fail loudly, keys rotate by id;
// the codec server answers Temporal's remote-codec API over HTTP with CORS for the UI; and one
// import on the real dev server with the codec on worker and client stores ciphertext only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ApplicationFailure, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import {
  createAesGcmCodec,
  ENCRYPTED_FAILURE_CONVERTER_PATH,
  ENCRYPTED_ENCODING,
  ENCRYPTION_KEY_ID_METADATA,
  PayloadCodecError,
} from '../client/codec';
import { startCodecServer, type CodecServerHandle } from '../client/codec-server';
import { CODEC_KEYS_ENV } from '../cli/codec-server';
import type { HealthLakeWorker } from '../worker';
import { fhirImportWorkflow } from '../workflows/import';
import type { FhirImportResult } from '../workflows/types';
import { startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';

const KEY_2025 = randomBytes(32);
const KEY_2026 = randomBytes(32);

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString('utf8');

function jsonPayload(value: unknown): Payload {
  return { metadata: { encoding: utf8('json/plain') }, data: utf8(JSON.stringify(value)) };
}

describe('AES-GCM payload codec', () => {
  const codec = createAesGcmCodec({ keys: { k2026: KEY_2026 }, activeKeyId: 'k2026' });

  it('round-trips payloads; each encoding is fresh ciphertext under the active key id', async () => {
    const plain = [jsonPayload({ datastoreId: 'ds-0001', lines: 3 }), jsonPayload('x'), { metadata: {} }];
    const [a, b] = await Promise.all([codec.encode(plain), codec.encode(plain)]);
    for (const encoded of a) {
      assert.equal(text(encoded.metadata?.encoding), ENCRYPTED_ENCODING);
      assert.equal(text(encoded.metadata?.[ENCRYPTION_KEY_ID_METADATA]), 'k2026');
      assert.equal(Buffer.from(encoded.data!).includes('ds-0001'), false);
    }
    // A random IV per payload: the same plaintext never gives the same bytes.
    assert.notDeepEqual(Buffer.from(a[0]!.data!), Buffer.from(b[0]!.data!));
    const decoded = await codec.decode(a);
    assert.deepEqual(
      decoded.map((p) => [text(p.metadata?.encoding), text(p.data)]),
      [
        ['json/plain', '{"datastoreId":"ds-0001","lines":3}'],
        ['json/plain', '"x"'],
        ['', ''],
      ],
    );
  });

  it('rejects a tampered payload (ciphertext or key id) with PayloadDecryptionFailed', async () => {
    const [encoded] = await codec.encode([jsonPayload({ n: 1 })]);
    const flipped = Buffer.from(encoded!.data!);
    flipped[20] = flipped[20]! ^ 0x01;
    await assert.rejects(
      codec.decode([{ ...encoded!, data: flipped }]),
      (err: unknown) =>
        err instanceof PayloadCodecError &&
        err.name === 'PayloadDecryptionFailed' &&
        err.message ===
          'payload encrypted with key "k2026" does not authenticate: it was altered, or the key is not the one it was encrypted with',
    );
    // The key id is authenticated too: relabelling a payload with another known key fails.
    const both = createAesGcmCodec({ keys: { k2025: KEY_2025, k2026: KEY_2026 }, activeKeyId: 'k2026' });
    const relabelled = {
      metadata: { ...encoded!.metadata, [ENCRYPTION_KEY_ID_METADATA]: utf8('k2025') },
      data: encoded!.data,
    };
    await assert.rejects(both.decode([relabelled]), { name: 'PayloadDecryptionFailed' });
  });

  it('names an unknown key id; rotation keeps old payloads readable; plain payloads pass through', async () => {
    const old = createAesGcmCodec({ keys: { k2025: KEY_2025 }, activeKeyId: 'k2025' });
    const [fromOld] = await old.encode([jsonPayload('old')]);
    await assert.rejects(codec.decode([fromOld!]), {
      name: 'UnknownEncryptionKey',
      message:
        'payload was encrypted with key "k2025", which this codec does not have (it has k2026); add the retired key to keys',
    });
    const rotated = createAesGcmCodec({ keys: { k2025: KEY_2025, k2026: KEY_2026 }, activeKeyId: 'k2026' });
    const [back] = await rotated.decode([fromOld!]);
    assert.equal(text(back!.data), '"old"');
    const [fresh] = await rotated.encode([jsonPayload('new')]);
    assert.equal(text(fresh!.metadata?.[ENCRYPTION_KEY_ID_METADATA]), 'k2026');
    const plain = jsonPayload('plain');
    assert.deepEqual(await rotated.decode([plain]), [plain]);
  });

  it('refuses a key of the wrong size and an active key id it does not have', () => {
    assert.throws(() => createAesGcmCodec({ keys: { short: randomBytes(16) }, activeKeyId: 'short' }), {
      name: 'InvalidCodecKeys',
      message: 'keys.short has 16 bytes; an AES-256 key must have 32',
    });
    assert.throws(() => createAesGcmCodec({ keys: { k2026: KEY_2026 }, activeKeyId: 'k2027' }), {
      name: 'InvalidCodecKeys',
      message: 'activeKeyId "k2027" must name one of keys (k2026)',
    });
  });
});

describe('codec server over HTTP', () => {
  let server: CodecServerHandle;
  const codec = createAesGcmCodec({ keys: { k2026: KEY_2026 }, activeKeyId: 'k2026' });
  const UI = 'http://localhost:8233';

  before(async () => {
    server = await startCodecServer({ codec });
  });
  after(async () => {
    await server?.stop();
  });

  const post = (path: string, body: unknown, origin = UI) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Origin: origin },
      body: JSON.stringify(body),
    });

  it('encodes and decodes proto3-JSON payloads, with CORS for the UI origin', async () => {
    const plain = {
      payloads: [
        {
          metadata: { encoding: Buffer.from('json/plain').toString('base64') },
          data: Buffer.from('{"datastoreId":"ds-0002"}').toString('base64'),
        },
      ],
    };
    const encoded = await post('/encode', plain);
    assert.equal(encoded.status, 200);
    assert.equal(encoded.headers.get('access-control-allow-origin'), UI);
    const encodedBody = (await encoded.json()) as typeof plain;
    const cipher = encodedBody.payloads[0]!;
    assert.equal(Buffer.from(cipher.metadata.encoding, 'base64').toString(), ENCRYPTED_ENCODING);
    assert.equal(Buffer.from(cipher.data, 'base64').includes('ds-0002'), false);
    const decoded = await post('/decode', encodedBody);
    assert.equal(decoded.status, 200);
    assert.deepEqual(await decoded.json(), plain);

    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: UI, 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-methods'), 'POST, OPTIONS');
    assert.equal(
      preflight.headers.get('access-control-allow-headers'),
      'Content-Type, X-Namespace, Authorization',
    );
    const foreign = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });

  it('answers 400 naming the problem for a payload it cannot decode or a body that is not payloads', async () => {
    const old = createAesGcmCodec({ keys: { k2025: KEY_2025 }, activeKeyId: 'k2025' });
    const [fromOld] = await old.encode([jsonPayload('old')]);
    const response = await post('/decode', {
      payloads: [
        {
          metadata: Object.fromEntries(
            Object.entries(fromOld!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
          ),
          data: Buffer.from(fromOld!.data!).toString('base64'),
        },
      ],
    });
    assert.equal(response.status, 400);
    assert.equal(
      await response.text(),
      'payload was encrypted with key "k2025", which this codec does not have (it has k2026); add the retired key to keys',
    );
    const bad = await post('/decode', { nope: 1 });
    assert.equal(bad.status, 400);
    assert.equal(await bad.text(), 'request body must be JSON: {"payloads": [...]}');
    const missing = await post('/other', {});
    assert.equal(missing.status, 404);
  });
});

describe('temporal-healthlake codec-server', () => {
  const MAIN = join(__dirname, '..', 'cli', 'main.ts');
  const keysEnv = `k2026=${KEY_2026.toString('base64')}`;

  function run(args: string[], env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'codec-server', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, stderr: () => stderr };
  }

  it('serves /decode for keys from the environment and exits 0 on SIGTERM', async () => {
    const { child, exited } = run(['--port', '0', '--ui-origin', 'http://ui.example'], {
      [CODEC_KEYS_ENV]: keysEnv,
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = (await lines.next()).value as string;
    const url = /^codec server listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(first)?.[1];
    assert.ok(url, first);
    const [encrypted] = await createAesGcmCodec({ keys: { k2026: KEY_2026 }, activeKeyId: 'k2026' }).encode([
      jsonPayload({ n: 42 }),
    ]);
    const response = await fetch(`${url}/decode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'http://ui.example' },
      body: JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(encrypted!.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
            ),
            data: Buffer.from(encrypted!.data!).toString('base64'),
          },
        ],
      }),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), 'http://ui.example');
    const body = (await response.json()) as { payloads: { data: string }[] };
    assert.equal(Buffer.from(body.payloads[0]!.data, 'base64').toString(), '{"n":42}');
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  it('exits 2 naming the problem when the keys are missing or malformed', async () => {
    const missing = run(['--port', '0'], { [CODEC_KEYS_ENV]: '' });
    assert.equal(await missing.exited, 2);
    assert.equal(
      missing.stderr().split('\n')[0],
      `${CODEC_KEYS_ENV} must hold the keys, <id>=<base64>[,...] (see --help)`,
    );
    const malformed = run(['--port', '0'], { [CODEC_KEYS_ENV]: `${keysEnv},k2027` });
    assert.equal(await malformed.exited, 2);
    assert.equal(
      malformed.stderr().trim(),
      `${CODEC_KEYS_ENV} entry 2 must be <id>=<base64 of a 32-byte key>`,
    );
    const short = run(['--port', '0'], { [CODEC_KEYS_ENV]: `k1=${randomBytes(16).toString('base64')}` });
    assert.equal(await short.exited, 2);
    assert.equal(short.stderr().trim(), 'keys.k1 has 16 bytes; an AES-256 key must have 32');
  });
});

describe('an import with the codec on the real dev server', () => {
  let stack: ImportTestStack;
  let worker: HealthLakeWorker;
  let running: Promise<void>;
  let server: CodecServerHandle;
  const codec = createAesGcmCodec({ keys: { k2026: KEY_2026 }, activeKeyId: 'k2026' });
  const taskQueue = uniqueName('codec');

  before(async () => {
    stack = await startImportTestStack();
    worker = await stack.worker(taskQueue, {
      workerOptions: {
        defaultHeartbeatThrottleInterval: 10,
        maxHeartbeatThrottleInterval: 10,
        dataConverter: { payloadCodecs: [codec] },
      },
    });
    running = worker.run();
    server = await startCodecServer({ codec });
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await server?.stop();
    await stack?.stop();
  });

  it('stores only ciphertext payloads; the result decodes with the codec (client and codec server)', async () => {
    const prefix = uniqueName('codec-batch');
    const data = await stack.land(prefix, 3);
    const datastoreId = await stack.newDatastore(prefix);
    const client = new Client({
      connection: stack.temporal.env.connection,
      dataConverter: { payloadCodecs: [codec] },
    });
    const workflowId = uniqueName('codec-import');
    const result: FhirImportResult = await client.workflow.execute(fhirImportWorkflow, {
      taskQueue,
      workflowId,
      args: [stack.input(datastoreId, prefix)],
    });
    assert.equal(result.status, 'COMPLETED');
    assert.equal(result.datastoreId, datastoreId);
    assert.equal(result.progress.counts.resourcesImported, data.counts.resources);

    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    // Search attributes are indexed by the server in plaintext (no codec sees them): the data store
    // id is there, and only there.
    assert.equal(raw.includes(datastoreId), true);
    const payloads: Payload[] = [];
    let searchAttributePayloads = 0;
    const visit = (value: unknown, underSearchAttributes: boolean): void => {
      if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
      const record = value as Record<string, unknown>;
      if ('data' in record && 'metadata' in record && record.data instanceof Uint8Array) {
        if (underSearchAttributes) searchAttributePayloads += 1;
        else payloads.push(record);
        return;
      }
      // Marker metadata is written by the SDK's core, not the data converter, so no codec sees it: a
      // patch marker holds the patch id, a local activity's `data` its type, attempt and times. The
      // local activity's result is a payload like any other.
      if (record.markerName === 'core_patch') return;
      if (record.markerName === 'core_local_activity') {
        const details = record.details as Record<string, unknown> | undefined;
        visit(details?.result, underSearchAttributes);
        return;
      }
      for (const [key, child] of Object.entries(record)) {
        visit(child, underSearchAttributes || key === 'searchAttributes');
      }
    };
    visit(history, false);
    assert.ok(payloads.length >= 5, `${payloads.length} payloads`);
    assert.ok(searchAttributePayloads >= 3, `${searchAttributePayloads} search attribute payloads`);
    for (const payload of payloads) {
      assert.equal(text(payload.metadata?.encoding), ENCRYPTED_ENCODING);
      assert.equal(Buffer.from(payload.data!).includes(datastoreId), false);
    }
    const withoutSearchAttributes = withoutServerIndexedFields(history);
    assert.equal(withoutSearchAttributes.includes(datastoreId), false);

    // The UI's path: the completed event's result through the codec server.
    const completed = history.events?.find((e) => e.workflowExecutionCompletedEventAttributes);
    const resultPayload = completed?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0];
    assert.ok(resultPayload);
    const response = await fetch(`${server.url}/decode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(resultPayload.metadata ?? {}).map(([k, v]) => [
                k,
                Buffer.from(v).toString('base64'),
              ]),
            ),
            data: Buffer.from(resultPayload.data!).toString('base64'),
          },
        ],
      }),
    });
    const decoded = (await response.json()) as { payloads: { data: string }[] };
    const viaServer = JSON.parse(
      Buffer.from(decoded.payloads[0]!.data, 'base64').toString(),
    ) as FhirImportResult;
    assert.equal(viaServer.datastoreId, datastoreId);
    assert.equal(viaServer.jobId, result.jobId);
  });

  it('with the encrypted failure converter, a failure message is ciphertext in the history and decodes in the client', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows'),
      failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH,
      logger: {
        log: () => undefined,
        trace: () => undefined,
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      },
    });
    const failingQueue = uniqueName('codec-failures');
    const failingWorker = await stack.worker(failingQueue, {
      workflowBundle: bundle,
      workerOptions: {
        dataConverter: { payloadCodecs: [codec], failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH },
      },
    });
    const client = new Client({
      connection: stack.temporal.env.connection,
      dataConverter: { payloadCodecs: [codec], failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH },
    });
    // A data store that does not exist: the start fails for good, naming it in the message.
    const missing = '0123456789abcdef0123456789abcdef';
    const workflowId = uniqueName('codec-failing');
    const error = await failingWorker.runUntil(
      client.workflow
        .execute(fhirImportWorkflow, {
          taskQueue: failingQueue,
          workflowId,
          args: [stack.input(missing, 'no-such-batch')],
        })
        .then(
          () => undefined,
          (err: unknown) => err,
        ),
    );
    assert.ok(error instanceof WorkflowFailedError, String(error));
    assert.ok(error.cause instanceof ApplicationFailure, String(error.cause));
    assert.equal(error.cause.type, 'ResourceNotFoundException');
    assert.ok(error.cause.message.includes(missing), error.cause.message);

    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const raw = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    assert.equal(withoutServerIndexedFields(history).includes(missing), false);
    assert.equal(raw.includes('Encoded failure'), true);
  });
});

/**
 * The history's bytes without what the server reads in plaintext by design (no codec sees it):
 * search attributes, and each activity's `priority` (its `fairnessKey` is the data store id).
 */
function withoutServerIndexedFields(history: temporal.api.history.v1.IHistory): Buffer {
  return Buffer.from(
    temporal.api.history.v1.History.encode({
      events: history.events?.map((event) => ({
        ...event,
        workflowExecutionStartedEventAttributes: event.workflowExecutionStartedEventAttributes
          ? { ...event.workflowExecutionStartedEventAttributes, searchAttributes: null }
          : null,
        upsertWorkflowSearchAttributesEventAttributes: null,
        activityTaskScheduledEventAttributes: event.activityTaskScheduledEventAttributes
          ? { ...event.activityTaskScheduledEventAttributes, priority: null }
          : null,
      })),
    }).finish(),
  );
}
