// The S3 access the activities need (the landing, the job-output reader): parse and join S3
// URIs, list a prefix, stream an object's lines. The caller brings the S3Client (AWS or any
// S3-compatible endpoint); healthlake-emulator has its own copy for its import jobs.
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

/** The rule an S3 URI must follow, as HealthLake models it (bucket name rules included). */
export const S3_URI_RULE = 's3://<bucket>/<prefix>';
const S3_URI_PATTERN = /^s3:\/\/([a-z0-9][.\-a-z0-9]{1,61}[a-z0-9])(?:\/(.*))?$/s;

/** Thrown by {@link parseS3Uri} when a value is not an `s3://<bucket>/<prefix>` URI. */
export class S3UriError extends Error {
  override readonly name = 'S3UriError';
  readonly rule = S3_URI_RULE;
  constructor(readonly value: string) {
    super(`S3 URI "${value}" must match ${S3_URI_RULE} (bucket: 3-63 of a-z, 0-9, '.', '-')`);
  }
}

/** A bucket and a key prefix; the prefix is `''` for a whole bucket. */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

/**
 * Splits `s3://bucket/some/prefix/` into `{ bucket: 'bucket', prefix: 'some/prefix/' }`.
 * The prefix is kept as written (a trailing `/` stays), so it can be used for listing as is.
 *
 * @throws S3UriError when the value is not an S3 URI with a valid bucket name.
 */
export function parseS3Uri(uri: string): S3Location {
  const match = S3_URI_PATTERN.exec(uri);
  if (!match?.[1]) throw new S3UriError(uri);
  return { bucket: match[1], prefix: match[2] ?? '' };
}

/** Joins a prefix and a relative key with exactly one `/` between them. */
export function joinS3Key(prefix: string, key: string): string {
  if (prefix === '') return key;
  return prefix.endsWith('/') ? `${prefix}${key}` : `${prefix}/${key}`;
}

/** One listed object: its key and size in bytes. */
export interface S3ObjectSummary {
  readonly key: string;
  readonly sizeBytes: number;
}

/** Lists every object under a prefix (all pages), in S3's key order. */
export async function listObjects(s3: S3Client, bucket: string, prefix: string): Promise<S3ObjectSummary[]> {
  const objects: S3ObjectSummary[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: continuationToken }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key !== undefined) objects.push({ key: object.Key, sizeBytes: object.Size ?? 0 });
    }
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuationToken);
  return objects;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

function decodeLine(bytes: Buffer, start: number, end: number): string {
  const stop = end > start && bytes[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
  return bytes.toString('utf8', start, stop);
}

/**
 * Splits a stream of byte chunks into lines (`\n` or `\r\n`), decoding each line as UTF-8 only
 * once it is whole, so a multi-byte character split across chunks stays intact. Every line is
 * yielded, blank ones included, so a caller's line numbers match the file's; a final newline
 * does not make an extra empty line.
 */
export async function* splitLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  let carry: Buffer | undefined;
  for await (const chunk of chunks) {
    const bytes: Buffer = carry
      ? Buffer.concat([carry, chunk])
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    let newline = bytes.indexOf(NEWLINE, start);
    while (newline !== -1) {
      yield decodeLine(bytes, start, newline);
      start = newline + 1;
      newline = bytes.indexOf(NEWLINE, start);
    }
    carry = start < bytes.length ? bytes.subarray(start) : undefined;
  }
  if (carry) yield decodeLine(carry, 0, carry.length);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * Streams an object's lines without holding the whole object in memory: the body is split as
 * it arrives. Stopping the iteration early (`break`) closes the HTTP response.
 *
 * @example
 * for await (const line of readObjectLines(s3, 'bucket', 'in/Patient.ndjson')) count++;
 */
export async function* readObjectLines(s3: S3Client, bucket: string, key: string): AsyncGenerator<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const body: unknown = object.Body;
  if (!isAsyncIterable(body)) {
    throw new Error(`GetObject s3://${bucket}/${key} returned a body that is not a byte stream`);
  }
  yield* splitLines(body);
}
