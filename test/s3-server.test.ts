// Proves the S3 side against a real S3-compatible server (moto's server mode): URIs parse with
// typed errors, objects round-trip byte for byte, listing follows every page, lines stream. The
// library (activities/s3.ts) and the emulator package (emulator/s3.ts) each have their own copy of
// the shared helpers (neither package imports the other): both are held to the same cases.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as libraryS3 from '../activities/s3';
import * as emulatorS3 from '../emulator/s3';
import { startS3Server, type S3ServerHandle } from '../emulator/s3-server';

const { createS3Client, ensureBucket, listObjectKeys, putObjectText } = emulatorS3;

// One moto server for the file; each describe works in its own bucket.
let server: S3ServerHandle;
let s3: S3Client;
before(async () => {
  server = await startS3Server();
  s3 = createS3Client({ endpoint: server.endpoint });
});
after(async () => {
  s3?.destroy();
  await server?.stop();
});

for (const [where, { joinS3Key, listObjects, parseS3Uri, readObjectLines, S3UriError, splitLines }] of [
  ['emulator/s3.ts', emulatorS3],
  ['activities/s3.ts', libraryS3],
] as const) {
  describe(`${where}: parseS3Uri`, () => {
    const valid: readonly [string, { bucket: string; prefix: string }][] = [
      ['s3://bucket', { bucket: 'bucket', prefix: '' }],
      ['s3://bucket/', { bucket: 'bucket', prefix: '' }],
      ['s3://my-bucket.v2/in/fhir/', { bucket: 'my-bucket.v2', prefix: 'in/fhir/' }],
      ['s3://b0b/a/b.ndjson', { bucket: 'b0b', prefix: 'a/b.ndjson' }],
    ];
    for (const [uri, expected] of valid) {
      it(`parses ${uri}`, () => assert.deepEqual(parseS3Uri(uri), expected));
    }

    const invalid = [
      's3:/bucket',
      'https://bucket/key',
      's3://Bucket/key',
      's3://ab/key',
      's3://-bucket/x',
      '',
    ];
    for (const uri of invalid) {
      it(`rejects "${uri}" naming the value and the rule`, () => {
        assert.throws(
          () => parseS3Uri(uri),
          (err: unknown) => {
            assert.ok(err instanceof S3UriError);
            assert.equal(err.value, uri);
            assert.equal(err.rule, 's3://<bucket>/<prefix>');
            assert.equal(
              err.message,
              `S3 URI "${uri}" must match s3://<bucket>/<prefix> (bucket: 3-63 of a-z, 0-9, '.', '-')`,
            );
            return true;
          },
        );
      });
    }

    it('joins keys with exactly one slash', () => {
      assert.deepEqual([joinS3Key('', 'a'), joinS3Key('p', 'a'), joinS3Key('p/', 'a')], ['a', 'p/a', 'p/a']);
    });
  });

  describe(`${where}: splitLines`, () => {
    async function collect(chunks: string[] | Buffer[]): Promise<string[]> {
      async function* source(): AsyncGenerator<Uint8Array> {
        for (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      }
      const lines: string[] = [];
      for await (const line of splitLines(source())) lines.push(line);
      return lines;
    }

    it('keeps blank lines, strips CR, and adds no line after a final newline', async () => {
      assert.deepEqual(await collect(['a\r\n\nb', 'c\n']), ['a', '', 'bc']);
      assert.deepEqual(await collect(['x']), ['x']);
      assert.deepEqual(await collect([]), []);
    });

    it('keeps a multi-byte character split across chunks intact', async () => {
      const bytes = Buffer.from('{"name":"Zoë"}\n{"n":"ü"}');
      const lines = await collect([bytes.subarray(0, 12), bytes.subarray(12, 21), bytes.subarray(21)]);
      assert.deepEqual(lines, ['{"name":"Zoë"}', '{"n":"ü"}']);
    });
  });

  describe(`${where}: lines and listings on a real S3-compatible server (moto)`, () => {
    const bucket = `s3-lines-${where.split('/')[0]}-${process.pid}`;
    before(() => ensureBucket(s3, bucket));

    it('streams the lines of a multi-megabyte object in order', async () => {
      const lineCount = 40_000;
      const lines = Array.from(
        { length: lineCount },
        (_, i) => `{"resourceType":"Basic","id":"b${i}","n":"é${i}"}`,
      );
      await putObjectText(s3, bucket, 'lines/big.ndjson', lines.join('\n') + '\n');
      let index = 0;
      for await (const line of readObjectLines(s3, bucket, 'lines/big.ndjson')) {
        assert.equal(line, lines[index]);
        index++;
      }
      assert.equal(index, lineCount);
    });

    it('lists every page of a prefix with more than 1000 keys, with sizes', async () => {
      const keyCount = 1_005;
      const keys = Array.from({ length: keyCount }, (_, i) => `many/${String(i).padStart(5, '0')}.ndjson`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((key) => putObjectText(s3, bucket, key, '{}\n')));
      }
      const listed = await listObjects(s3, bucket, 'many/');
      assert.deepEqual(
        listed,
        keys.map((key) => ({ key, sizeBytes: 3 })),
      );
    });
  });
}

describe('real S3-compatible server (moto)', () => {
  const bucket = `s3-test-${process.pid}`;
  before(() => ensureBucket(s3, bucket));

  it('binds 127.0.0.1 and creates buckets idempotently', async () => {
    assert.match(server.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    await ensureBucket(s3, bucket);
    await ensureBucket(s3, `${bucket}-other`);
    assert.deepEqual(await listObjectKeys(s3, `${bucket}-other`, ''), []);
  });

  it('round-trips an object byte for byte', async () => {
    const body =
      '{"resourceType":"Patient","id":"p1","name":[{"family":"Zoë Ñandú"}]}\n' + 'x'.repeat(70_000);
    await putObjectText(s3, bucket, 'rt/one.ndjson', body);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'rt/one.ndjson' }));
    const bytes = await got.Body?.transformToByteArray();
    assert.ok(bytes);
    assert.ok(Buffer.from(bytes).equals(Buffer.from(body, 'utf8')));
    assert.deepEqual(await emulatorS3.listObjects(s3, bucket, 'rt/'), [
      { key: 'rt/one.ndjson', sizeBytes: Buffer.byteLength(body) },
    ]);
  });
});
