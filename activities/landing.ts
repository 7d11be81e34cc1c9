// Lands FHIR NDJSON from a local directory, HTTP(S) URLs or another S3 prefix into an import's input
// prefix, and describes what it landed in a LandingManifest (key, size, SHA-256, lines; totals).
// Objects already landed with the same SHA-256 are not uploaded again; the checksum and line count
// live in the object's metadata, so a retry (or a second run) can trust what is already there.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { GetObjectCommand, HeadObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { joinS3Key, listObjects, parseS3Uri, S3UriError } from '../emulator/s3';
import { awsErrorToFailure } from './aws-errors';
import type { LandedObject, LandingManifest } from '../workflows/manifest';
import { buildLandingManifest } from '../workflows/landing-manifest';
import type { LandFhirInput, LandingProgress, LandingSource } from '../workflows/landing-types';

export type { LandFhirInput, LandingProgress, LandingSource } from '../workflows/landing-types';

/** Metadata keys (S3 lower-cases them) that make a landed object self-describing. */
export const LANDING_METADATA = {
  sha256: 'sha256',
  lines: 'fhir-lines',
  sourceId: 'landing-source-id',
} as const;

/** Failure types the landing activity raises (non-retryable: the input is wrong). */
export const LandingFailureType = {
  InvalidLandingSource: 'InvalidLandingSource',
  LandingSourceNotFound: 'LandingSourceNotFound',
  NoNdjsonFiles: 'NoNdjsonFiles',
  DuplicateLandingName: 'DuplicateLandingName',
  /** A URL source answered a 4xx other than 404/410, 408 and 429: the request itself is refused. */
  LandingSourceHttpError: 'LandingSourceHttpError',
  /** The target prefix holds `.ndjson` objects this landing did not write; the import would read them too. */
  StrayObjectsUnderPrefix: 'StrayObjectsUnderPrefix',
} as const;
export type LandingFailureType = (typeof LandingFailureType)[keyof typeof LandingFailureType];

/** A source the landing cannot use: names the field, the value and the rule. */
export class LandingSourceError extends Error {
  override readonly name: string = 'LandingSourceError';
  constructor(
    readonly type: LandingFailureType,
    readonly field: string,
    readonly value: string,
    readonly rule: string,
  ) {
    super(`${field} "${value}" ${rule}`);
  }
}

/**
 * The target prefix holds `.ndjson` objects this landing did not write. Names the prefix and the
 * count, never the keys (they may carry patient identifiers).
 */
export class StrayObjectsError extends LandingSourceError {
  override readonly name: string = 'StrayObjectsError';
  constructor(
    readonly targetS3Uri: string,
    readonly strayObjects: number,
  ) {
    super(
      LandingFailureType.StrayObjectsUnderPrefix,
      'targetS3Uri',
      targetS3Uri,
      `holds ${strayObjects} ${NDJSON_SUFFIX} object(s) this landing did not write; the import reads ` +
        'everything under the prefix, so land into a prefix that holds only this batch',
    );
  }
}

export interface LandingActivitiesOptions {
  /** S3 client for the target (and for S3 sources). */
  readonly s3: S3Client;
  /** HTTP client for URL sources. @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Folder for temporary copies of remote sources while they are hashed. @default os.tmpdir() */
  readonly tmpDir?: string;
  /** Multipart part size in bytes (S3's minimum is 5 MiB). @default 8 MiB */
  readonly partSizeBytes?: number;
  /** Parts uploaded in parallel per object. @default 4 */
  readonly queueSize?: number;
}

const MIB = 1024 * 1024;
const DEFAULT_PART_SIZE_BYTES = 8 * MIB;
const DEFAULT_QUEUE_SIZE = 4;
const NDJSON_SUFFIX = '.ndjson';
const NEWLINE = 0x0a;
const NDJSON_CONTENT_TYPE = 'application/fhir+ndjson';

/** One object to land: a name under the target prefix and a way to read it. */
interface SourceObject {
  /** Path under the target prefix, `/`-separated. */
  readonly name: string;
  /** Stable identity of this version of the source (path+size+mtime, ETag, ...); '' when unknown. */
  readonly sourceId: string;
  /** Size when known up front (for heartbeats), else undefined. */
  readonly sizeBytes?: number;
  /** A local file with the bytes, downloading a remote source first. */
  materialise(tmp: string, signal: AbortSignal): Promise<string>;
}

/** Counts bytes, resource lines and SHA-256 over the chunks of one object. */
class Digest {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private lines = 0;
  private lineHasContent = false;

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    for (const byte of chunk) {
      if (byte === NEWLINE) {
        if (this.lineHasContent) this.lines += 1;
        this.lineHasContent = false;
      } else if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) {
        this.lineHasContent = true;
      }
    }
  }

  result(): { sha256: string; sizeBytes: number; lines: number } {
    return {
      sha256: this.hash.digest('hex'),
      sizeBytes: this.bytes,
      lines: this.lines + (this.lineHasContent ? 1 : 0),
    };
  }
}

/**
 * SHA-256, size and FHIR line count of a file. A line is one that holds anything but whitespace,
 * so blank lines (and a final newline) are not resources.
 */
export async function digestFile(
  path: string,
): Promise<{ sha256: string; sizeBytes: number; lines: number }> {
  const digest = new Digest();
  for await (const chunk of createReadStream(path)) digest.update(chunk as Buffer);
  return digest.result();
}

async function listDirectory(root: string): Promise<SourceObject[]> {
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (err) {
    throw new LandingSourceError(
      LandingFailureType.LandingSourceNotFound,
      'source.path',
      root,
      `must be a readable directory (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    );
  }
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith(NDJSON_SUFFIX))
    .map((e) => join(direntFolder(e), e.name))
    .sort();
  return Promise.all(
    files.map(async (path): Promise<SourceObject> => {
      const info = await stat(path);
      return {
        name: relative(root, path).split(sep).join('/'),
        sourceId: `file:${info.size}:${Math.trunc(info.mtimeMs)}`,
        sizeBytes: info.size,
        materialise: async () => path,
      };
    }),
  );
}

/**
 * The folder of a `readdir` entry. `Dirent.parentPath` arrived in Node 20.12; before it the same
 * value was `Dirent.path` (deprecated since), so both are read for Node >= 20.3.
 */
function direntFolder(entry: Dirent): string {
  const legacy = entry as Dirent & { readonly path?: string; readonly parentPath?: string };
  return legacy.parentPath ?? legacy.path ?? '';
}

async function download(body: Readable, tmp: string, name: string): Promise<string> {
  const path = join(tmp, createHash('sha256').update(name).digest('hex').slice(0, 16));
  await pipeline(body, createWriteStream(path));
  return path;
}

/**
 * A URL as it may appear in messages: scheme, host and path only. The query string of a presigned
 * URL carries credentials (X-Amz-Credential, X-Amz-Signature, X-Amz-Security-Token); user info and
 * the fragment may carry secrets as well.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    // Not `origin`: it is "null" for non-special schemes. User info is dropped as well.
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return url.split(/[?#]/, 1)[0] ?? '';
  }
}

/** HTTP statuses of a URL source worth another attempt: the server is busy or timed out. */
const RETRYABLE_CLIENT_STATUSES: ReadonlySet<number> = new Set([408, 429]);

/** What a non-2xx answer of a URL source means: not found, refused for good, or worth a retry. */
export function classifyHttpStatus(status: number): 'not-found' | 'fail' | 'retry' {
  if (status === 404 || status === 410) return 'not-found';
  if (status >= 400 && status < 500 && !RETRYABLE_CLIENT_STATUSES.has(status)) return 'fail';
  return 'retry';
}

function urlSources(urls: readonly string[], fetchFn: typeof fetch): SourceObject[] {
  return urls.map((url, index) => {
    const field = `source.urls[${index}]`;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new LandingSourceError(
        LandingFailureType.InvalidLandingSource,
        field,
        redactUrl(url),
        'must be an absolute http(s) URL',
      );
    }
    const shown = redactUrl(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new LandingSourceError(
        LandingFailureType.InvalidLandingSource,
        field,
        shown,
        'must be an absolute http(s) URL',
      );
    }
    const last = decodeURIComponent(parsed.pathname.split('/').pop() ?? '');
    const name = last.endsWith(NDJSON_SUFFIX) ? last : `${last || `object-${index}`}${NDJSON_SUFFIX}`;
    return {
      name,
      sourceId: '',
      materialise: async (tmp, signal) => {
        const response = await fetchFn(url, { signal });
        if (!response.ok || !response.body) {
          const answered = `answered HTTP ${response.status}`;
          switch (classifyHttpStatus(response.status)) {
            case 'not-found':
              throw new LandingSourceError(LandingFailureType.LandingSourceNotFound, field, shown, answered);
            case 'fail':
              throw new LandingSourceError(LandingFailureType.LandingSourceHttpError, field, shown, answered);
            case 'retry':
              // 5xx, 408, 429 (and a 2xx without a body): worth another attempt.
              throw ApplicationFailure.retryable(
                `${field} "${shown}" ${answered}`,
                'LandingSourceUnavailable',
              );
          }
        }
        return download(Readable.fromWeb(response.body), tmp, name);
      },
    };
  });
}

async function s3Sources(s3: S3Client, s3Uri: string): Promise<SourceObject[]> {
  let location;
  try {
    location = parseS3Uri(s3Uri);
  } catch (err) {
    if (err instanceof S3UriError) {
      throw new LandingSourceError(
        LandingFailureType.InvalidLandingSource,
        'source.s3Uri',
        s3Uri,
        `must match ${err.rule}`,
      );
    }
    throw err;
  }
  const { bucket, prefix } = location;
  const objects = (await listObjects(s3, bucket, prefix)).filter((o) => o.key.endsWith(NDJSON_SUFFIX));
  return objects.map((object) => ({
    name: object.key.slice(prefix.length).replace(/^\/+/, ''),
    sourceId: '',
    sizeBytes: object.sizeBytes,
    materialise: async (tmp, signal) => {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.key }), {
        abortSignal: signal,
      });
      return download(got.Body as Readable, tmp, object.key);
    },
  }));
}

async function headLanded(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ sha256?: string; lines?: number; sourceId?: string; sizeBytes: number } | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const metadata = head.Metadata ?? {};
    const lines = metadata[LANDING_METADATA.lines];
    return {
      sha256: metadata[LANDING_METADATA.sha256],
      lines: lines === undefined ? undefined : Number(lines),
      sourceId: metadata[LANDING_METADATA.sourceId],
      sizeBytes: head.ContentLength ?? 0,
    };
  } catch (err) {
    if (err instanceof S3ServiceException && (err.name === 'NotFound' || err.name === 'NoSuchKey'))
      return undefined;
    throw err;
  }
}

/**
 * The activity boundary: the landing's own errors fail for good; an S3 error is classified by
 * `classifyAwsError` (access, missing bucket, bad request fail at once under the AWS error name;
 * throttling, 5xx and network errors retry); anything else is rethrown for the retry policy.
 */
function toFailure(err: unknown): unknown {
  if (err instanceof LandingSourceError) {
    return ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: true });
  }
  if (err instanceof ApplicationFailure || !isAwsServiceError(err)) return err;
  return awsErrorToFailure(err, 'S3');
}

/** An answer from an AWS service (S3 here): it carries the SDK's `$metadata`. */
function isAwsServiceError(err: unknown): boolean {
  return err instanceof S3ServiceException || (typeof err === 'object' && err !== null && '$metadata' in err);
}

/**
 * Builds the landing activities. Register them on the worker that runs `fhirLandingWorkflow`.
 *
 * @example
 * const worker = await Worker.create({ ..., activities: { ...createLandingActivities({ s3 }) } });
 */
export function createLandingActivities(options: LandingActivitiesOptions) {
  const { s3 } = options;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const partSize = Math.max(options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES, 5 * MIB);
  const queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;

  async function listSource(source: LandingSource): Promise<SourceObject[]> {
    switch (source.kind) {
      case 'directory':
        return listDirectory(source.path);
      case 'urls':
        return urlSources(source.urls, fetchFn);
      case 's3':
        return s3Sources(s3, source.s3Uri);
    }
  }

  return {
    /**
     * Lands every `.ndjson` object of `input.source` under `input.targetS3Uri` and returns the
     * manifest. Heartbeats bytes landed; after a retry it resumes from the last heartbeat (objects
     * already landed are taken from their metadata, not uploaded again). Cancellation aborts the
     * upload in flight.
     */
    async landFhirObjects(input: LandFhirInput): Promise<LandingManifest> {
      const context = Context.current();
      const signal = context.cancellationSignal;
      try {
        const target = parseS3Uri(input.targetS3Uri);
        const sources = await listSource(input.source);
        if (sources.length === 0) {
          throw new LandingSourceError(
            LandingFailureType.NoNdjsonFiles,
            'source',
            describeSource(input.source),
            `holds no ${NDJSON_SUFFIX} files`,
          );
        }
        const names = new Set<string>();
        for (const source of sources) {
          if (names.has(source.name)) {
            throw new LandingSourceError(
              LandingFailureType.DuplicateLandingName,
              'source',
              source.name,
              'names two objects; landed names must be unique',
            );
          }
          names.add(source.name);
        }
        const resumed = context.info.heartbeatDetails as LandingProgress | undefined;
        const tmp = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'thl-landing-'));
        const landed: LandedObject[] = [];
        const progress = {
          objectsTotal: sources.length,
          objectsDone: 0,
          objectsUploaded: 0,
          objectsSkipped: 0,
          bytesLanded: 0,
        };
        const beat = (currentBytes = 0) =>
          context.heartbeat({
            ...progress,
            bytesLanded: progress.bytesLanded + currentBytes,
          } satisfies LandingProgress);
        try {
          for (const [index, source] of sources.entries()) {
            const key = joinS3Key(target.prefix, source.name);
            const existing = await headLanded(s3, target.bucket, key);
            const trusted =
              existing?.sha256 !== undefined &&
              existing.lines !== undefined &&
              ((resumed !== undefined && index < resumed.objectsDone) ||
                (source.sourceId !== '' &&
                  existing.sourceId === source.sourceId &&
                  existing.sizeBytes === source.sizeBytes));
            let object: LandedObject;
            if (trusted && existing?.sha256 !== undefined && existing.lines !== undefined) {
              object = { key, sizeBytes: existing.sizeBytes, sha256: existing.sha256, lines: existing.lines };
              progress.objectsSkipped += 1;
            } else {
              const path = await source.materialise(tmp, signal);
              const digest = await digestFile(path);
              object = { key, ...digest };
              if (existing?.sha256 === digest.sha256 && existing.sizeBytes === digest.sizeBytes) {
                progress.objectsSkipped += 1;
              } else {
                const upload = new Upload({
                  client: s3,
                  partSize,
                  queueSize,
                  leavePartsOnError: false,
                  params: {
                    Bucket: target.bucket,
                    Key: key,
                    Body: createReadStream(path),
                    ContentType: NDJSON_CONTENT_TYPE,
                    Metadata: {
                      [LANDING_METADATA.sha256]: digest.sha256,
                      [LANDING_METADATA.lines]: String(digest.lines),
                      [LANDING_METADATA.sourceId]: source.sourceId,
                    },
                  },
                });
                const abort = () => void upload.abort();
                signal.addEventListener('abort', abort, { once: true });
                upload.on('httpUploadProgress', (p) => beat(p.loaded ?? 0));
                try {
                  await upload.done();
                } finally {
                  signal.removeEventListener('abort', abort);
                }
                progress.objectsUploaded += 1;
              }
              if (path.startsWith(tmp)) await rm(path, { force: true });
            }
            landed.push(object);
            progress.objectsDone += 1;
            progress.bytesLanded += object.sizeBytes;
            beat();
          }
        } finally {
          await rm(tmp, { recursive: true, force: true });
        }
        // HealthLake imports every object under the prefix, not only this batch: an object that is
        // not in the manifest would be imported unseen and break the reconciliation.
        const landedKeys = new Set(landed.map((object) => object.key));
        const strays = (await listObjects(s3, target.bucket, target.prefix)).filter(
          (object) => object.key.endsWith(NDJSON_SUFFIX) && !landedKeys.has(object.key),
        );
        if (strays.length > 0) throw new StrayObjectsError(input.targetS3Uri, strays.length);
        const prefixUri = `s3://${target.bucket}/${target.prefix}`;
        return buildLandingManifest(prefixUri.endsWith('/') ? prefixUri : `${prefixUri}/`, landed);
      } catch (err) {
        // Whatever the abort broke (an upload, a download, a read), report it as the cancellation it is.
        if (signal.aborted) throw new CancelledFailure('landing cancelled');
        if (err instanceof S3UriError) {
          throw toFailure(
            new LandingSourceError(
              LandingFailureType.InvalidLandingSource,
              'targetS3Uri',
              err.value,
              `must match ${err.rule}`,
            ),
          );
        }
        throw toFailure(err);
      }
    },
  };
}

function describeSource(source: LandingSource): string {
  switch (source.kind) {
    case 'directory':
      return source.path;
    case 'urls':
      return `${source.urls.length} URLs`;
    case 's3':
      return source.s3Uri;
  }
}
