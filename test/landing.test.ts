// The landing activity against a real S3-compatible server (moto): a local directory, HTTP URLs and
// another S3 prefix land with exact manifests; unchanged objects are skipped by SHA-256; a retry
// resumes from its heartbeat; a bad source fails at once with a typed, non-retryable failure.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  classifyHttpStatus,
  createLandingActivities,
  LANDING_METADATA,
  redactUrl,
  readLandingManifest,
  type LandFhirBatchInput,
  type LandFhirInput,
  type LandingProgress,
} from '../activities/landing';
import { createS3Client, ensureBucket, listObjects, putObjectText } from '../emulator/s3';
import { startS3Server, type S3ServerHandle } from '../emulator/s3-server';
import type { LandingManifest, LandingManifestRef } from '../workflows/manifest';

const BUCKET = 'landing-test';
const MIB = 1024 * 1024;

function patientLine(i: number): string {
  return JSON.stringify({ resourceType: 'Patient', id: `p-${i}`, gender: i % 2 ? 'male' : 'female' });
}

function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Runs the landing activity in a mock activity context, collecting its heartbeats. */
async function land(
  s3: S3Client,
  input: LandFhirInput,
  heartbeatDetails?: LandingProgress,
  onHeartbeat?: (details: LandingProgress, env: MockActivityEnvironment) => void,
): Promise<{ manifest: LandingManifest; last: LandingProgress | undefined; beats: number }> {
  const env = new MockActivityEnvironment(heartbeatDetails ? { heartbeatDetails } : {});
  let last: LandingProgress | undefined;
  let beats = 0;
  env.on('heartbeat', (details: LandingProgress) => {
    last = details;
    beats += 1;
    onHeartbeat?.(details, env);
  });
  // The smallest part S3 allows, so the 6 MiB file goes up in two parts.
  const activities = createLandingActivities({ s3, partSizeBytes: 5 * MIB });
  const manifest: LandingManifest = await env.run((i: LandFhirInput) => activities.landFhirObjects(i), input);
  return { manifest, last, beats };
}

describe('landing activity on moto S3', () => {
  let server: S3ServerHandle;
  let s3: S3Client;
  let dir: string;
  const files: Record<string, string> = {};

  before(async () => {
    server = await startS3Server();
    s3 = createS3Client({ endpoint: server.endpoint });
    await ensureBucket(s3, BUCKET);
    dir = mkdtempSync(join(tmpdir(), 'thl-landing-src-'));
    mkdirSync(join(dir, 'nested'));
    files['Patient.ndjson'] = [0, 1, 2].map(patientLine).join('\n') + '\n';
    // Blank lines and a missing final newline: 2 resources.
    files['nested/Observation.ndjson'] = `${patientLine(3)}\n\n  \n${patientLine(4)}`;
    // Over one multipart part (5 MiB), so lib-storage uploads it in parts.
    const big: string[] = [];
    let size = 0;
    for (let i = 0; size < 6 * MIB; i += 1) {
      const line = patientLine(1000 + i);
      big.push(line);
      size += line.length + 1;
    }
    files['Big.ndjson'] = big.join('\n') + '\n';
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, 'README.txt'), 'not FHIR, not landed');
  });

  after(async () => {
    await server?.stop();
  });

  const expectedObjects = (prefix: string) =>
    ['Big.ndjson', 'Patient.ndjson', 'nested/Observation.ndjson'].map((name) => ({
      key: `${prefix}${name}`,
      sizeBytes: Buffer.byteLength(files[name] ?? ''),
      sha256: sha256(files[name] ?? ''),
      lines:
        name === 'Big.ndjson'
          ? (files[name] ?? '').split('\n').length - 1
          : name === 'Patient.ndjson'
            ? 3
            : 2,
    }));

  it('lands a directory (multipart for the big file) with an exact manifest and self-describing metadata', async () => {
    const { manifest, last } = await land(s3, {
      source: { kind: 'directory', path: dir },
      targetS3Uri: `s3://${BUCKET}/dir/`,
    });
    const objects = expectedObjects('dir/');
    assert.deepEqual(manifest, {
      s3Uri: `s3://${BUCKET}/dir/`,
      objects,
      totalObjects: 3,
      totalBytes: objects.reduce((s, o) => s + o.sizeBytes, 0),
      totalLines: objects.reduce((s, o) => s + o.lines, 0),
    });
    assert.deepEqual(last, {
      objectsTotal: 3,
      objectsDone: 3,
      objectsUploaded: 3,
      objectsSkipped: 0,
      bytesLanded: manifest.totalBytes,
    });
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'dir/Big.ndjson' }));
    assert.equal(head.Metadata?.[LANDING_METADATA.sha256], objects[0]?.sha256);
    assert.equal(head.Metadata?.[LANDING_METADATA.lines], String(objects[0]?.lines));
    // Multipart uploads get an ETag of the form "<md5>-<parts>".
    assert.match(head.ETag ?? '', /-2"$/);
    const body = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'dir/nested/Observation.ndjson' }),
    );
    assert.equal(await body.Body?.transformToString(), files['nested/Observation.ndjson']);
  });

  it('skips objects already landed with the same SHA-256 and re-lands a changed one', async () => {
    const target = { source: { kind: 'directory', path: dir }, targetS3Uri: `s3://${BUCKET}/again` } as const;
    await land(s3, target);
    const second = await land(s3, target);
    assert.deepEqual(second.last, {
      objectsTotal: 3,
      objectsDone: 3,
      objectsUploaded: 0,
      objectsSkipped: 3,
      bytesLanded: second.manifest.totalBytes,
    });
    assert.deepEqual(second.manifest.objects, expectedObjects('again/'));

    const changed = `${patientLine(7)}\n`;
    writeFileSync(join(dir, 'Patient.ndjson'), changed);
    try {
      const third = await land(s3, target);
      assert.equal(third.last?.objectsUploaded, 1);
      assert.equal(third.last?.objectsSkipped, 2);
      assert.deepEqual(third.manifest.objects[1], {
        key: 'again/Patient.ndjson',
        sizeBytes: changed.length,
        sha256: sha256(changed),
        lines: 1,
      });
    } finally {
      writeFileSync(join(dir, 'Patient.ndjson'), files['Patient.ndjson'] ?? '');
    }
  });

  it('resumes from heartbeat details: objects done before the retry are taken from their metadata', async () => {
    const target = {
      source: { kind: 'directory', path: dir },
      targetS3Uri: `s3://${BUCKET}/resume/`,
    } as const;
    const first = await land(s3, target);
    // The source changes after the first attempt: a resumed attempt must not re-read the first object.
    writeFileSync(join(dir, 'Big.ndjson'), `${patientLine(9)}\n`);
    try {
      const resumed = await land(s3, target, {
        objectsTotal: 3,
        objectsDone: 1,
        objectsUploaded: 1,
        objectsSkipped: 0,
        bytesLanded: first.manifest.objects[0]?.sizeBytes ?? 0,
      });
      assert.deepEqual(resumed.manifest, first.manifest);
      assert.equal(resumed.last?.objectsSkipped, 3);
    } finally {
      writeFileSync(join(dir, 'Big.ndjson'), files['Big.ndjson'] ?? '');
    }
  });

  it('lands HTTP URLs and another S3 prefix with the same checksums', async () => {
    const http: Server = createServer((req, res) => {
      const name = (req.url ?? '').slice(1);
      const text = files[name];
      if (text === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/fhir+ndjson' }).end(text);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const address = http.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      const fromHttp = await land(s3, {
        source: { kind: 'urls', urls: [`${base}/Patient.ndjson`, `${base}/Big.ndjson`] },
        targetS3Uri: `s3://${BUCKET}/http/`,
      });
      assert.deepEqual(
        fromHttp.manifest.objects.map((o) => [o.key, o.sha256, o.lines]),
        [
          ['http/Patient.ndjson', sha256(files['Patient.ndjson'] ?? ''), 3],
          ['http/Big.ndjson', sha256(files['Big.ndjson'] ?? ''), expectedObjects('')[0]?.lines],
        ],
      );
      await assert.rejects(
        land(s3, {
          source: { kind: 'urls', urls: [`${base}/Missing.ndjson`] },
          targetS3Uri: `s3://${BUCKET}/http/`,
        }),
        (err: unknown) =>
          err instanceof ApplicationFailure &&
          err.type === 'LandingSourceNotFound' &&
          err.nonRetryable &&
          err.message === `source.urls[0] "${base}/Missing.ndjson" answered HTTP 404`,
      );
    } finally {
      http.close();
    }

    await putObjectText(s3, BUCKET, 'src/a/One.ndjson', `${patientLine(1)}\n${patientLine(2)}\n`);
    await putObjectText(s3, BUCKET, 'src/b/Two.ndjson', `${patientLine(3)}\n`);
    await putObjectText(s3, BUCKET, 'src/notes.txt', 'ignored');
    const fromS3 = await land(s3, {
      source: { kind: 's3', s3Uri: `s3://${BUCKET}/src/` },
      targetS3Uri: `s3://${BUCKET}/copy`,
    });
    assert.deepEqual(fromS3.manifest, {
      s3Uri: `s3://${BUCKET}/copy/`,
      objects: [
        {
          key: 'copy/a/One.ndjson',
          sizeBytes: Buffer.byteLength(`${patientLine(1)}\n${patientLine(2)}\n`),
          sha256: sha256(`${patientLine(1)}\n${patientLine(2)}\n`),
          lines: 2,
        },
        {
          key: 'copy/b/Two.ndjson',
          sizeBytes: Buffer.byteLength(`${patientLine(3)}\n`),
          sha256: sha256(`${patientLine(3)}\n`),
          lines: 1,
        },
      ],
      totalObjects: 2,
      totalBytes:
        Buffer.byteLength(`${patientLine(1)}\n${patientLine(2)}\n`) +
        Buffer.byteLength(`${patientLine(3)}\n`),
      totalLines: 3,
    });
  });

  it('stops on cancellation mid-upload: CancelledFailure, and no partial object left behind', async () => {
    const bigOnly = mkdtempSync(join(tmpdir(), 'thl-landing-big-'));
    writeFileSync(join(bigOnly, 'Big.ndjson'), files['Big.ndjson'] ?? '');
    let cancelledAt: number | undefined;
    await assert.rejects(
      land(
        s3,
        { source: { kind: 'directory', path: bigOnly }, targetS3Uri: `s3://${BUCKET}/cancel/` },
        undefined,
        (details, env) => {
          if (cancelledAt === undefined && details.bytesLanded > 0) {
            cancelledAt = details.bytesLanded;
            env.cancel();
          }
        },
      ),
      (err: unknown) => err instanceof CancelledFailure && err.message === 'landing cancelled',
    );
    assert.ok(cancelledAt !== undefined && cancelledAt < Buffer.byteLength(files['Big.ndjson'] ?? ''));
    await assert.rejects(
      s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'cancel/Big.ndjson' })),
      (err: unknown) => err instanceof Error && err.name === 'NotFound',
    );
  });

  it('fails at once, non-retryable, naming the field, on a bad source or target', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'thl-landing-empty-'));
    const cases: Array<[LandFhirInput, string, string]> = [
      [
        { source: { kind: 'directory', path: join(empty, 'nope') }, targetS3Uri: `s3://${BUCKET}/x/` },
        'LandingSourceNotFound',
        `source.path "${join(empty, 'nope')}" must be a readable directory (ENOENT)`,
      ],
      [
        { source: { kind: 'directory', path: empty }, targetS3Uri: `s3://${BUCKET}/x/` },
        'NoNdjsonFiles',
        `source "${empty}" holds no .ndjson files`,
      ],
      [
        { source: { kind: 'urls', urls: ['ftp://host/a.ndjson'] }, targetS3Uri: `s3://${BUCKET}/x/` },
        'InvalidLandingSource',
        'source.urls[0] "ftp://host/a.ndjson" must be an absolute http(s) URL',
      ],
      [
        { source: { kind: 'directory', path: dir }, targetS3Uri: 's3:/nobucket' },
        'InvalidLandingSource',
        'targetS3Uri "s3:/nobucket" must match s3://<bucket>/<prefix>',
      ],
    ];
    for (const [input, type, message] of cases) {
      await assert.rejects(land(s3, input), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure, String(err));
        assert.deepEqual([err.type, err.nonRetryable, err.message], [type, true, message]);
        return true;
      });
    }
  });

  it('landFhirBatch writes the manifest beside the prefix and returns only a checked reference', async () => {
    const env = new MockActivityEnvironment();
    const activities = createLandingActivities({
      s3,
      partSizeBytes: 5 * MIB,
      directoryRoots: { inbox: dir },
    });
    const input: LandFhirBatchInput = {
      source: { kind: 'directoryRoot', root: 'inbox', subfolder: 'nested' },
      targetS3Uri: `s3://${BUCKET}/batch/in/`,
    };
    const ref: LandingManifestRef = await env.run(
      (i: LandFhirBatchInput) => activities.landFhirBatch(i),
      input,
    );
    const observation = files['nested/Observation.ndjson'] ?? '';
    assert.deepEqual(Object.keys(ref).sort(), [
      'manifestS3Uri',
      'manifestSha256',
      's3Uri',
      'totalBytes',
      'totalLines',
      'totalObjects',
    ]);
    assert.equal(ref.manifestS3Uri, `s3://${BUCKET}/batch/_manifests/in.json`);
    assert.deepEqual(
      [ref.s3Uri, ref.totalObjects, ref.totalBytes, ref.totalLines],
      [`s3://${BUCKET}/batch/in/`, 1, Buffer.byteLength(observation), 2],
    );
    const manifest = await readLandingManifest(s3, ref);
    assert.deepEqual(manifest.objects, [
      {
        key: 'batch/in/Observation.ndjson',
        sizeBytes: Buffer.byteLength(observation),
        sha256: sha256(observation),
        lines: 2,
      },
    ]);
    // Changed since landing: the reference's SHA-256 no longer matches.
    await putObjectText(s3, BUCKET, 'batch/_manifests/in.json', '{}');
    await assert.rejects(readLandingManifest(s3, ref), {
      name: 'LandingSourceError',
      type: 'LandingManifestChecksumMismatch',
    });
  });

  it('landFhirBatch refuses a manifest location under the prefix, a whole-bucket target, an unknown root, before any upload', async () => {
    const activities = createLandingActivities({ s3, directoryRoots: { inbox: dir } });
    const cases: Array<[LandFhirBatchInput, string, string]> = [
      [
        {
          source: { kind: 'directoryRoot', root: 'inbox' },
          targetS3Uri: `s3://${BUCKET}/guarded/in/`,
          manifestS3Uri: `s3://${BUCKET}/guarded/in/manifest.json`,
        },
        'InvalidManifestLocation',
        `manifestS3Uri "s3://${BUCKET}/guarded/in/manifest.json" must not be under targetS3Uri "s3://${BUCKET}/guarded/in/": the import reads everything under it`,
      ],
      [
        {
          source: { kind: 'directoryRoot', root: 'inbox' },
          targetS3Uri: `s3://${BUCKET}/guarded/in/`,
          manifestS3Uri: `s3://${BUCKET}/guarded/manifest.ndjson`,
        },
        'InvalidManifestLocation',
        `manifestS3Uri "s3://${BUCKET}/guarded/manifest.ndjson" must be an S3 object URI ending in .json, s3://<bucket>/<key>.json`,
      ],
      [
        { source: { kind: 'directoryRoot', root: 'inbox' }, targetS3Uri: `s3://${BUCKET}` },
        'InvalidManifestLocation',
        `targetS3Uri "s3://${BUCKET}" is a whole bucket, so no folder beside it can hold the manifest: set manifestS3Uri`,
      ],
      [
        { source: { kind: 'directoryRoot', root: 'outbox' }, targetS3Uri: `s3://${BUCKET}/guarded/in/` },
        'InvalidLandingSource',
        'source.root "outbox" must name a directory root of the landing worker (inbox)',
      ],
      [
        {
          source: { kind: 'directoryRoot', root: 'inbox', subfolder: '../etc' },
          targetS3Uri: `s3://${BUCKET}/guarded/in/`,
        },
        'InvalidLandingSource',
        'source.subfolder "../etc" must be a relative path inside the root, without ".."',
      ],
    ];
    for (const [input, type, message] of cases) {
      await assert.rejects(
        new MockActivityEnvironment().run((i: LandFhirBatchInput) => activities.landFhirBatch(i), input),
        (err: unknown) => {
          assert.ok(err instanceof ApplicationFailure, String(err));
          assert.deepEqual([err.type, err.nonRetryable, err.message], [type, true, message]);
          return true;
        },
      );
    }
    assert.deepEqual(await listObjects(s3, BUCKET, 'guarded/'), []);
  });

  it('a file that vanishes mid-landing fails retryably without its path or name in the message', async () => {
    const root = mkdtempSync(join(tmpdir(), 'thl-landing-vanish-'));
    writeFileSync(join(root, 'a.ndjson'), `${patientLine(1)}\n`);
    writeFileSync(join(root, 'patient-JOHN-DOE.ndjson'), `${patientLine(2)}\n`);
    const activities = createLandingActivities({
      s3,
      objectConcurrency: 1,
      directoryRoots: { vanish: root },
    });
    const env = new MockActivityEnvironment();
    // After the first object, the second disappears before it is read.
    env.once('heartbeat', () => rmSync(join(root, 'patient-JOHN-DOE.ndjson')));
    await assert.rejects(
      env.run((i: LandFhirBatchInput) => activities.landFhirBatch(i), {
        source: { kind: 'directoryRoot', root: 'vanish' },
        targetS3Uri: `s3://${BUCKET}/vanish/in/`,
      } satisfies LandFhirBatchInput),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure, String(err));
        assert.deepEqual(
          [err.type, err.nonRetryable, err.message],
          ['LandingFileError', false, 'a landing file operation failed: open ENOENT'],
        );
        assert.equal(String(err.stack).includes('JOHN-DOE'), false);
        return true;
      },
    );
  });

  it('fails at once, non-retryable, under the S3 error name, when the target bucket does not exist', async () => {
    await assert.rejects(
      land(s3, { source: { kind: 'directory', path: dir }, targetS3Uri: 's3://no-such-landing-bucket/x/' }),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure, String(err));
        assert.deepEqual(
          [err.type, err.nonRetryable, err.message],
          ['NoSuchBucket', true, 'S3 failed with NoSuchBucket: The specified bucket does not exist'],
        );
        return true;
      },
    );
  });

  it('URL sources: 4xx fails for good, 5xx/408/429 retry, and a query string never reaches a message', async () => {
    const statuses: Record<string, number> = {
      '/forbidden.ndjson': 403,
      '/busy.ndjson': 503,
      '/slow.ndjson': 429,
    };
    const http: Server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      res.writeHead(statuses[path] ?? 404).end();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const address = http.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const secret =
      'X-Amz-Credential=AKIDEXAMPLE%2F20261126&X-Amz-Signature=deadbeef&X-Amz-Security-Token=tok';
    const cases: Array<[string, string, boolean]> = [
      ['forbidden', 'LandingSourceHttpError', true],
      ['Missing', 'LandingSourceNotFound', true],
      ['busy', 'LandingSourceUnavailable', false],
      ['slow', 'LandingSourceUnavailable', false],
    ];
    const status: Record<string, number> = { forbidden: 403, Missing: 404, busy: 503, slow: 429 };
    try {
      for (const [name, type, nonRetryable] of cases) {
        const url = `${base}/${name}.ndjson?${secret}#frag`;
        await assert.rejects(
          land(s3, { source: { kind: 'urls', urls: [url] }, targetS3Uri: `s3://${BUCKET}/http-errors/` }),
          (err: unknown) => {
            assert.ok(err instanceof ApplicationFailure, String(err));
            assert.deepEqual(
              [err.type, err.nonRetryable, err.message],
              [type, nonRetryable, `source.urls[0] "${base}/${name}.ndjson" answered HTTP ${status[name]}`],
            );
            assert.ok(!JSON.stringify([err.message, err.stack]).includes('X-Amz'), err.message);
            return true;
          },
        );
      }
      // An unparseable URL is cut at its query string too.
      await assert.rejects(
        land(s3, {
          source: { kind: 'urls', urls: [`not a url?${secret}`] },
          targetS3Uri: `s3://${BUCKET}/x/`,
        }),
        (err: unknown) =>
          err instanceof ApplicationFailure &&
          err.message === 'source.urls[0] "not a url" must be an absolute http(s) URL',
      );
    } finally {
      http.close();
    }
  });

  it('fails non-retryably, naming the prefix and the count only, when the prefix holds .ndjson objects of another batch', async () => {
    await putObjectText(s3, BUCKET, 'stray/old/Patient.ndjson', `${patientLine(50)}\n`);
    await putObjectText(s3, BUCKET, 'stray/Other.ndjson', `${patientLine(51)}\n`);
    await putObjectText(s3, BUCKET, 'stray/notes.txt', 'not imported as FHIR, not counted');
    await assert.rejects(
      land(s3, { source: { kind: 'directory', path: dir }, targetS3Uri: `s3://${BUCKET}/stray/` }),
      (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure, String(err));
        assert.deepEqual(
          [err.type, err.nonRetryable, err.message],
          [
            'StrayObjectsUnderPrefix',
            true,
            `targetS3Uri "s3://${BUCKET}/stray/" holds 2 .ndjson object(s) this landing did not write; ` +
              'the import reads everything under the prefix, so land into a prefix that holds only this batch',
          ],
        );
        return true;
      },
    );
    // The batch itself landed (a retry after the strays are removed skips it by SHA-256).
    assert.equal((await listObjects(s3, BUCKET, 'stray/')).length, 6);
  });
});

describe('landing: pure classifiers', () => {
  it('classifyHttpStatus: 404/410 not found, other 4xx fail, 408/429/5xx retry', () => {
    const table: Array<[number, ReturnType<typeof classifyHttpStatus>]> = [
      [400, 'fail'],
      [401, 'fail'],
      [403, 'fail'],
      [404, 'not-found'],
      [408, 'retry'],
      [410, 'not-found'],
      [418, 'fail'],
      [429, 'retry'],
      [500, 'retry'],
      [503, 'retry'],
      [200, 'retry'],
    ];
    assert.deepEqual(
      table.map(([status]) => [status, classifyHttpStatus(status)]),
      table,
    );
  });

  it('redactUrl keeps scheme, host and path only', () => {
    assert.deepEqual(
      [
        'https://b.s3.amazonaws.com/p/Patient.ndjson?X-Amz-Signature=abc&X-Amz-Credential=AKID',
        'https://user:pass@host:8443/a/b.ndjson#x',
        'ftp://host/a.ndjson?token=1',
        'not a url?X-Amz-Security-Token=t',
      ].map(redactUrl),
      [
        'https://b.s3.amazonaws.com/p/Patient.ndjson',
        'https://host:8443/a/b.ndjson',
        'ftp://host/a.ndjson',
        'not a url',
      ],
    );
  });
});
