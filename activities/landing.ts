// Lands FHIR NDJSON from a local directory, HTTP(S) URLs or another S3 prefix into an import's input
// prefix, and describes what it landed in a LandingManifest (key, size, SHA-256, lines; totals).
// Objects already landed with the same SHA-256 are not uploaded again; the checksum and line count
// live in the object's metadata, so a retry (or a second run) can trust what is already there.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, type Dirent } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { TextDecoder } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { joinS3Key, listObjects, parseS3Uri, S3UriError } from './s3';
import { awsErrorToFailure } from './aws-errors';
import type { LandedObject, LandingManifest, LandingManifestRef } from '../workflows/manifest';
import { buildLandingManifest } from '../workflows/landing-manifest';
import { isBlankNdjsonLine } from '../workflows/ndjson';
import type {
  LandFhirBatchInput,
  LandFhirInput,
  LandingProgress,
  LandingSource,
} from '../workflows/landing-types';

export type {
  LandFhirBatchInput,
  LandFhirInput,
  LandingProgress,
  LandingSource,
} from '../workflows/landing-types';

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
  /** `manifestS3Uri` is not a `.json` object outside the target prefix. */
  InvalidManifestLocation: 'InvalidManifestLocation',
  /** The manifest object in S3 does not match the SHA-256 of its reference (changed since landing). */
  LandingManifestChecksumMismatch: 'LandingManifestChecksumMismatch',
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
  /** Objects landed in parallel (each may upload `queueSize` parts at once). @default 8 */
  readonly objectConcurrency?: number;
  /**
   * Folders this worker lands from, by name: a `{ kind: 'directoryRoot', root: 'inbox' }` source
   * reads `directoryRoots.inbox`. Host paths stay here, out of workflow histories. @default {}
   */
  readonly directoryRoots?: Readonly<Record<string, string>>;
}

const MIB = 1024 * 1024;
const DEFAULT_PART_SIZE_BYTES = 8 * MIB;
const DEFAULT_QUEUE_SIZE = 4;
const DEFAULT_OBJECT_CONCURRENCY = 8;
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

/** ASCII bytes `String.prototype.trim` strips: TAB, LF, VT, FF, CR, space. */
const ASCII_WHITESPACE: ReadonlySet<number> = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20]);
/** Bytes of a line with no ASCII content held before they are decoded and checked. */
const PENDING_LINE_BYTES = 64 * 1024;

/**
 * Counts bytes, resource lines and SHA-256 over the chunks of one object. A line counts unless
 * {@link isBlankNdjsonLine} says it is blank (as HealthLake and the emulator skip it): an ASCII byte
 * other than whitespace settles it at once; a line of only whitespace and non-ASCII bytes (NBSP,
 * BOM, ...) is decoded as UTF-8 and checked, in bounded pieces.
 */
class Digest {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private lines = 0;
  private lineHasContent = false;
  /** Bytes of the current line while it has no ASCII content and holds a non-ASCII byte. */
  private pending: number[] = [];
  private decoder: TextDecoder | undefined;

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    for (const byte of chunk) {
      if (byte === NEWLINE) {
        this.endLine();
      } else if (this.lineHasContent) {
        continue;
      } else if (byte >= 0x80 || (this.pending.length > 0 && ASCII_WHITESPACE.has(byte))) {
        this.pending.push(byte);
        if (this.pending.length >= PENDING_LINE_BYTES) this.checkPending(true);
      } else if (!ASCII_WHITESPACE.has(byte)) {
        this.lineHasContent = true;
        this.pending = [];
      }
    }
  }

  /** Decodes the pending bytes (streaming, so a character split across pieces stays whole). */
  private checkPending(more: boolean): void {
    this.decoder ??= new TextDecoder('utf-8');
    const text = this.decoder.decode(Uint8Array.from(this.pending), { stream: more });
    this.pending = [];
    if (!isBlankNdjsonLine(text)) this.lineHasContent = true;
  }

  private endLine(): void {
    if (!this.lineHasContent && (this.pending.length > 0 || this.decoder !== undefined)) {
      this.checkPending(false);
    }
    if (this.lineHasContent) this.lines += 1;
    this.lineHasContent = false;
    this.pending = [];
    this.decoder = undefined;
  }

  result(): { sha256: string; sizeBytes: number; lines: number } {
    this.endLine();
    return { sha256: this.hash.digest('hex'), sizeBytes: this.bytes, lines: this.lines };
  }
}

/**
 * SHA-256, size and FHIR line count of a file. A line is one that holds anything but Unicode
 * whitespace ({@link isBlankNdjsonLine}), so blank lines (and a final newline) are not resources.
 */
export async function digestFile(
  path: string,
): Promise<{ sha256: string; sizeBytes: number; lines: number }> {
  const digest = new Digest();
  for await (const chunk of createReadStream(path)) digest.update(chunk as Buffer);
  return digest.result();
}

/**
 * @param field, shown how the failure names the folder: `source.path` and the path, or
 *   `source.root` and the root's name (never its host path).
 */
async function listDirectory(root: string, field: string, shown: string): Promise<SourceObject[]> {
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (err) {
    throw new LandingSourceError(
      LandingFailureType.LandingSourceNotFound,
      field,
      shown,
      `must be a readable directory (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
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
/** The host folder of a `directoryRoot` source, checked against the worker's roots. */
function resolveDirectoryRoot(
  roots: Readonly<Record<string, string>>,
  source: Extract<LandingSource, { kind: 'directoryRoot' }>,
): { path: string; shown: string } {
  const base = Object.hasOwn(roots, source.root) ? roots[source.root] : undefined;
  if (base === undefined) {
    const known = Object.keys(roots);
    throw new LandingSourceError(
      LandingFailureType.InvalidLandingSource,
      'source.root',
      source.root,
      `must name a directory root of the landing worker (${known.length > 0 ? known.join(', ') : 'it has none: set directoryRoots'})`,
    );
  }
  const subfolder = source.subfolder ?? '';
  if (subfolder === '') return { path: base, shown: source.root };
  if (isAbsolute(subfolder) || subfolder.split(/[\\/]/).includes('..')) {
    throw new LandingSourceError(
      LandingFailureType.InvalidLandingSource,
      'source.subfolder',
      subfolder,
      'must be a relative path inside the root, without ".."',
    );
  }
  return { path: join(base, subfolder), shown: `${source.root}/${subfolder}` };
}

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

function objectMetadata(digest: { sha256: string; lines: number }, sourceId: string): Record<string, string> {
  return {
    [LANDING_METADATA.sha256]: digest.sha256,
    [LANDING_METADATA.lines]: String(digest.lines),
    [LANDING_METADATA.sourceId]: sourceId,
  };
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
  if (isFileSystemError(err)) {
    // Node's message and stack name the file (`open '/data/inbox/patient-....ndjson'`): keep the
    // code and the call only, so no path or file name reaches the history. Retryable: a file
    // being replaced, a full disk or a busy mount may be fine on the next attempt.
    return ApplicationFailure.create({
      message: `a landing file operation failed: ${err.syscall ?? 'fs'} ${err.code}`,
      type: LANDING_FILE_ERROR,
    });
  }
  if (err instanceof ApplicationFailure || !isAwsServiceError(err)) return err;
  return awsErrorToFailure(err, 'S3');
}

/** Failure type of a file-system error while landing (retryable; message without the path). */
export const LANDING_FILE_ERROR = 'LandingFileError';

function isFileSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  // `path` tells a file-system error from a network one (which carries `address` instead).
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && 'path' in err;
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
  const directoryRoots = options.directoryRoots ?? {};
  const objectConcurrency = Math.max(1, options.objectConcurrency ?? DEFAULT_OBJECT_CONCURRENCY);

  async function listSource(source: LandingSource): Promise<SourceObject[]> {
    switch (source.kind) {
      case 'directory':
        return listDirectory(source.path, 'source.path', source.path);
      case 'directoryRoot': {
        const { path, shown } = resolveDirectoryRoot(directoryRoots, source);
        return listDirectory(path, 'source.root', shown);
      }
      case 'urls':
        return urlSources(source.urls, fetchFn);
      case 's3':
        return s3Sources(s3, source.s3Uri);
    }
  }

  /** The landing itself (see `landFhirObjects`); `before` runs first, inside the failure boundary. */
  async function landObjects<R>(
    input: LandFhirInput,
    then: (manifest: LandingManifest) => Promise<R>,
    before: () => void = () => undefined,
  ): Promise<R> {
    const context = Context.current();
    const signal = context.cancellationSignal;
    try {
      before();
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
          // Counts, not the name: landed names may identify patients.
          throw new LandingSourceError(
            LandingFailureType.DuplicateLandingName,
            'source',
            describeSource(input.source),
            `gives two objects the same landed name (object ${sources.findIndex((o) => o.name === source.name) + 1} and ${sources.indexOf(source) + 1} of ${sources.length}); landed names must be unique`,
          );
        }
        names.add(source.name);
      }
      const resumed = context.info.heartbeatDetails as LandingProgress | undefined;
      // One listing up front spares a HEAD per object on a fresh prefix.
      const present = new Set((await listObjects(s3, target.bucket, target.prefix)).map((o) => o.key));
      const tmp = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'thl-landing-'));
      const landed: LandedObject[] = new Array<LandedObject>(sources.length);
      const progress = {
        objectsTotal: sources.length,
        objectsDone: 0,
        objectsUploaded: 0,
        objectsSkipped: 0,
        bytesLanded: 0,
      };
      /** Bytes of objects in flight, by index: heartbeats count them as landed so far. */
      const inFlight = new Map<number, number>();
      const beat = () => {
        let current = 0;
        for (const bytes of inFlight.values()) current += bytes;
        context.heartbeat({
          ...progress,
          bytesLanded: progress.bytesLanded + current,
        } satisfies LandingProgress);
      };
      const landOne = async (index: number, source: SourceObject): Promise<LandedObject> => {
        const key = joinS3Key(target.prefix, source.name);
        const existing = present.has(key) ? await headLanded(s3, target.bucket, key) : undefined;
        const trusted =
          existing?.sha256 !== undefined &&
          existing.lines !== undefined &&
          ((resumed !== undefined && index < resumed.objectsDone) ||
            (source.sourceId !== '' &&
              existing.sourceId === source.sourceId &&
              existing.sizeBytes === source.sizeBytes));
        if (trusted && existing?.sha256 !== undefined && existing.lines !== undefined) {
          progress.objectsSkipped += 1;
          return { key, sizeBytes: existing.sizeBytes, sha256: existing.sha256, lines: existing.lines };
        }
        const path = await source.materialise(tmp, signal);
        const digest = await digestFile(path);
        if (existing?.sha256 === digest.sha256 && existing.sizeBytes === digest.sizeBytes) {
          progress.objectsSkipped += 1;
        } else if (digest.sizeBytes < partSize) {
          // One part: a plain PUT (lib-storage's buffering costs more than the upload here).
          await s3.send(
            new PutObjectCommand({
              Bucket: target.bucket,
              Key: key,
              Body: await readFile(path),
              ContentType: NDJSON_CONTENT_TYPE,
              Metadata: objectMetadata(digest, source.sourceId),
            }),
            { abortSignal: signal },
          );
          progress.objectsUploaded += 1;
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
              Metadata: objectMetadata(digest, source.sourceId),
            },
          });
          const abort = () => void upload.abort();
          signal.addEventListener('abort', abort, { once: true });
          upload.on('httpUploadProgress', (p) => {
            inFlight.set(index, p.loaded ?? 0);
            beat();
          });
          try {
            await upload.done();
          } finally {
            signal.removeEventListener('abort', abort);
          }
          progress.objectsUploaded += 1;
        }
        if (path.startsWith(tmp)) await rm(path, { force: true });
        // The same field order as a trusted object: a re-run writes the same manifest bytes (SHA-256).
        return { key, sizeBytes: digest.sizeBytes, sha256: digest.sha256, lines: digest.lines };
      };
      // Objects land `objectConcurrency` at a time (small objects are round-trip bound). A retry
      // trusts `objectsDone`, so it counts only the unbroken run of finished objects from the start.
      let next = 0;
      let failed = false;
      const lane = async (): Promise<void> => {
        while (!failed && next < sources.length) {
          const index = next;
          next += 1;
          const source = sources[index]!;
          try {
            const object = await landOne(index, source);
            landed[index] = object;
            inFlight.delete(index);
            progress.bytesLanded += object.sizeBytes;
            while (progress.objectsDone < sources.length && landed[progress.objectsDone] !== undefined) {
              progress.objectsDone += 1;
            }
            beat();
          } catch (err) {
            failed = true;
            throw err;
          }
        }
      };
      try {
        const lanes = Array.from({ length: Math.min(objectConcurrency, sources.length) }, lane);
        const settled = await Promise.allSettled(lanes);
        const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (rejected) throw rejected.reason;
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
      return await then(buildLandingManifest(prefixUri.endsWith('/') ? prefixUri : `${prefixUri}/`, landed));
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
  }

  return {
    /**
     * Lands every `.ndjson` object of `input.source` under `input.targetS3Uri` and returns the
     * manifest, object keys included (used by landings started before `landFhirBatch`; prefer
     * that one: keys may name patients, and a long list does not fit a Temporal payload).
     * Heartbeats bytes landed; after a retry it resumes from the last heartbeat (objects already
     * landed are taken from their metadata, not uploaded again). Cancellation aborts the upload
     * in flight.
     */
    async landFhirObjects(input: LandFhirInput): Promise<LandingManifest> {
      return landObjects(input, async (manifest) => manifest);
    },

    /**
     * Lands like `landFhirObjects`, writes the full manifest as JSON to `input.manifestS3Uri`
     * (default: `_manifests/<last segment>.json` beside the target prefix), and returns only a
     * {@link LandingManifestRef}: the totals, the manifest's S3 URI and its SHA-256. No key reaches
     * the workflow history, and the result's size does not grow with the number of objects.
     * A bad `manifestS3Uri` fails before anything is uploaded.
     */
    async landFhirBatch(input: LandFhirBatchInput): Promise<LandingManifestRef> {
      let manifestS3Uri = '';
      return landObjects(
        input,
        (manifest) => writeLandingManifest(s3, manifestS3Uri, manifest),
        () => {
          manifestS3Uri = input.manifestS3Uri ?? defaultManifestS3Uri(input.targetS3Uri);
          checkManifestLocation(manifestS3Uri, input.targetS3Uri);
        },
      );
    },
  };
}

/** Manifest objects sit in this folder beside the prefix they describe. */
export const MANIFEST_FOLDER = '_manifests';

/**
 * Where `landFhirBatch` writes the manifest by default: `_manifests/<last segment>.json` in the
 * folder that holds the target prefix, so it is beside the batch but never under it (HealthLake
 * reads everything under the input prefix).
 *
 * @example
 * defaultManifestS3Uri('s3://b/imports/batch-42/'); // 's3://b/imports/_manifests/batch-42.json'
 */
export function defaultManifestS3Uri(targetS3Uri: string): string {
  const { bucket, prefix } = parseS3Uri(targetS3Uri);
  const segments = prefix.split('/').filter((segment) => segment !== '');
  const last = segments.pop();
  if (last === undefined) {
    throw new LandingSourceError(
      LandingFailureType.InvalidManifestLocation,
      'targetS3Uri',
      targetS3Uri,
      'is a whole bucket, so no folder beside it can hold the manifest: set manifestS3Uri',
    );
  }
  return `s3://${bucket}/${[...segments, MANIFEST_FOLDER, `${last}.json`].join('/')}`;
}

function checkManifestLocation(manifestS3Uri: string, targetS3Uri: string): void {
  let location;
  try {
    location = parseS3Uri(manifestS3Uri);
  } catch {
    location = undefined;
  }
  if (location === undefined || !location.prefix.endsWith('.json')) {
    throw new LandingSourceError(
      LandingFailureType.InvalidManifestLocation,
      'manifestS3Uri',
      manifestS3Uri,
      'must be an S3 object URI ending in .json, s3://<bucket>/<key>.json',
    );
  }
  const target = parseS3Uri(targetS3Uri);
  const targetFolder =
    target.prefix === '' || target.prefix.endsWith('/') ? target.prefix : `${target.prefix}/`;
  if (location.bucket === target.bucket && location.prefix.startsWith(targetFolder)) {
    throw new LandingSourceError(
      LandingFailureType.InvalidManifestLocation,
      'manifestS3Uri',
      manifestS3Uri,
      `must not be under targetS3Uri "${targetS3Uri}": the import reads everything under it`,
    );
  }
}

/** The JSON document `landFhirBatch` stores: the manifest plus a format tag for later versions. */
export const LANDING_MANIFEST_FORMAT = 'temporal-healthlake/landing-manifest@1';

async function writeLandingManifest(
  s3: S3Client,
  manifestS3Uri: string,
  manifest: LandingManifest,
): Promise<LandingManifestRef> {
  const body = Buffer.from(JSON.stringify({ format: LANDING_MANIFEST_FORMAT, ...manifest }));
  const manifestSha256 = createHash('sha256').update(body).digest('hex');
  const { bucket, prefix } = parseS3Uri(manifestS3Uri);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: prefix,
      Body: body,
      ContentType: 'application/json',
      Metadata: { [LANDING_METADATA.sha256]: manifestSha256 },
    }),
  );
  return {
    s3Uri: manifest.s3Uri,
    manifestS3Uri,
    manifestSha256,
    totalObjects: manifest.totalObjects,
    totalBytes: manifest.totalBytes,
    totalLines: manifest.totalLines,
  };
}

/**
 * Reads the full manifest a {@link LandingManifestRef} points to, in activity code (never in a
 * workflow: the object list is what must stay out of histories). Checks the SHA-256 and the totals.
 *
 * @throws LandingSourceError `LandingManifestChecksumMismatch` when the object changed since landing.
 * @example
 * const { objects } = await readLandingManifest(s3, handoff.manifest);
 */
export async function readLandingManifest(s3: S3Client, ref: LandingManifestRef): Promise<LandingManifest> {
  const { bucket, prefix } = parseS3Uri(ref.manifestS3Uri);
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: prefix }));
  const body = Buffer.from(await got.Body!.transformToByteArray());
  const sha256 = createHash('sha256').update(body).digest('hex');
  if (sha256 !== ref.manifestSha256) {
    throw new LandingSourceError(
      LandingFailureType.LandingManifestChecksumMismatch,
      'manifestS3Uri',
      ref.manifestS3Uri,
      `has SHA-256 ${sha256}, not the ${ref.manifestSha256} it was landed with`,
    );
  }
  const { format: _format, ...manifest } = JSON.parse(body.toString('utf8')) as LandingManifest & {
    format: string;
  };
  return manifest;
}

function describeSource(source: LandingSource): string {
  switch (source.kind) {
    case 'directory':
      return source.path;
    case 'directoryRoot':
      return source.subfolder ? `${source.root}/${source.subfolder}` : source.root;
    case 'urls':
      return `${source.urls.length} URLs`;
    case 's3':
      return source.s3Uri;
  }
}
