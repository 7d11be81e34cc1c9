// The `scale` benchmark's HealthLake: a small fake over HTTP (awsJson1_0, what the real SDK client
// speaks) with exact job timelines, so detection latency is measured against a known end, and
// AWS's account shape: ONE token bucket per account shared by StartFHIRImportJob,
// DescribeFHIRImportJob and ListFHIRImportJobs (10 calls/s, burst 10), and one running import per
// data store (the rest QUEUED, FIFO). The emulator (emulator/) reads real S3 objects per job, too
// heavy for thousands of imports on 2 cores; its quotas are per operation kind.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REPORT_REFRESH_MS } from './jobs';

/** One job's fixed timeline, epoch ms. */
interface ScaleJob {
  readonly jobId: string;
  readonly jobName: string;
  readonly datastoreId: string;
  readonly clientToken: string;
  readonly inputS3Uri: string;
  readonly outputS3Uri: string;
  readonly submitMs: number;
  /** SUBMITTED until this; QUEUED until `inProgressMs` when another job holds the store. */
  readonly submittedUntilMs: number;
  /** Infinity while the stores are held (`holdStoresUntilStarts`). */
  inProgressMs: number;
  endMs: number;
  readonly runMs: number;
  readonly totalMb: number;
  describes: number;
}

export interface ScaleHealthLakeOptions {
  /** Account calls per second (Start, Describe and List together). @default 10 */
  readonly callsPerSecond?: number;
  /** Bucket size. @default 10 */
  readonly burst?: number;
  /** IN_PROGRESS length of import `n`'s job (ms); `n` is read from the job name `imp-<n>-...`. */
  readonly runMs: (n: number) => number;
  /** SUBMITTED length of import `n`'s job (ms). */
  readonly submittedMs: (n: number) => number;
  /**
   * Hold every data store (jobs stay QUEUED after SUBMITTED) until this many jobs were started,
   * then run them back to back per store, FIFO: the production shape of thousands of imports in one
   * account, where jobs run minutes to hours, so all of them are waiting at once while the first
   * ones run (with 1-3 s jobs and no hold the account's start rate, not the waits, sets the pace).
   * @default 0 (no hold)
   */
  readonly holdStoresUntilStarts?: number;
}

export interface ScaleCounters {
  describe: number;
  list: number;
  start: number;
  throttled: number;
}

export interface ScaleHealthLake {
  readonly url: string;
  readonly counters: ScaleCounters;
  /** The job started for import `n` (job name `imp-<n>-...`), if any. */
  jobOf(n: number): { jobId: string; endMs: number; describes: number } | undefined;
  stop(): Promise<void>;
}

const TERMINAL = 'COMPLETED';

export async function startScaleHealthLake(options: ScaleHealthLakeOptions): Promise<ScaleHealthLake> {
  const rate = options.callsPerSecond ?? 10;
  const burst = options.burst ?? 10;
  let tokens = burst;
  let tokensAtMs = Date.now();
  const counters: ScaleCounters = { describe: 0, list: 0, start: 0, throttled: 0 };
  const jobs = new Map<string, ScaleJob>();
  const byToken = new Map<string, ScaleJob>();
  const byImport = new Map<number, ScaleJob>();
  const storeFreeAtMs = new Map<string, number>();
  let started = 0;

  const take = (): boolean => {
    const now = Date.now();
    tokens = Math.min(burst, tokens + ((now - tokensAtMs) / 1000) * rate);
    tokensAtMs = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  const view = (job: ScaleJob, now: number) => {
    const status =
      now < job.submittedUntilMs
        ? 'SUBMITTED'
        : now < job.inProgressMs
          ? 'QUEUED'
          : now < job.endMs
            ? 'IN_PROGRESS'
            : TERMINAL;
    const runMs = job.runMs;
    const ran = status === TERMINAL ? runMs : status === 'IN_PROGRESS' ? now - job.inProgressMs : 0;
    // The report moves every REPORT_REFRESH_MS (or at the end), as HealthLake's does.
    const reported = status === TERMINAL ? runMs : Math.floor(ran / REPORT_REFRESH_MS) * REPORT_REFRESH_MS;
    const mb = Math.round(((job.totalMb * reported) / runMs) * 1000) / 1000;
    return {
      JobId: job.jobId,
      JobName: job.jobName,
      JobStatus: status,
      SubmitTime: job.submitMs / 1000,
      ...(status === TERMINAL ? { EndTime: job.endMs / 1000 } : {}),
      DatastoreId: job.datastoreId,
      InputDataConfig: { S3Uri: job.inputS3Uri },
      JobOutputDataConfig: { S3Configuration: { S3Uri: job.outputS3Uri, KmsKeyId: 'alias/bench' } },
      DataAccessRoleArn: 'arn:aws:iam::123456789012:role/bench',
      JobProgressReport: {
        TotalNumberOfScannedFiles: Math.floor(mb / 100),
        TotalSizeOfScannedFilesInMB: mb,
        TotalNumberOfImportedFiles: Math.floor(mb / 100),
        TotalNumberOfResourcesScanned: Math.round(mb * 1000),
        TotalNumberOfResourcesImported: Math.round(mb * 1000),
        TotalNumberOfResourcesWithCustomerError: 0,
        TotalNumberOfFilesReadWithCustomerError: 0,
        Throughput: 0,
      },
    };
  };

  const handle = (operation: string, input: Record<string, unknown>): [number, unknown] => {
    const text = (value: unknown): string => (typeof value === 'string' ? value : '');
    const now = Date.now();
    if (!take()) {
      counters.throttled++;
      return [400, { __type: 'ThrottlingException', message: `Rate exceeded for ${operation}` }];
    }
    switch (operation) {
      case 'StartFHIRImportJob': {
        counters.start++;
        const token = text(input.ClientToken);
        const existing = byToken.get(token);
        if (existing)
          return [200, { JobId: existing.jobId, JobStatus: 'SUBMITTED', DatastoreId: existing.datastoreId }];
        const datastoreId = String(input.DatastoreId);
        const named = /^imp-(\d+)-/.exec(text(input.JobName));
        const n = named ? Number(named[1]) : 1_000_000 + started;
        started++;
        const submittedUntilMs = now + options.submittedMs(n);
        const jobRunMs = options.runMs(n);
        const held = started <= (options.holdStoresUntilStarts ?? 0);
        const inProgressMs = held
          ? Number.POSITIVE_INFINITY
          : Math.max(submittedUntilMs, storeFreeAtMs.get(datastoreId) ?? 0);
        const endMs = inProgressMs + jobRunMs;
        if (!held) storeFreeAtMs.set(datastoreId, endMs);
        const inputConfig = input.InputDataConfig as { S3Uri?: string } | undefined;
        const output = input.JobOutputDataConfig as { S3Configuration?: { S3Uri?: string } } | undefined;
        const job: ScaleJob = {
          jobId: `job${started.toString().padStart(7, '0')}`,
          jobName: text(input.JobName),
          datastoreId,
          clientToken: token,
          inputS3Uri: inputConfig?.S3Uri ?? '',
          outputS3Uri: output?.S3Configuration?.S3Uri ?? '',
          submitMs: now,
          submittedUntilMs,
          inProgressMs,
          endMs,
          runMs: jobRunMs,
          totalMb: (jobRunMs / 1000) * 10,
          describes: 0,
        };
        jobs.set(job.jobId, job);
        byToken.set(token, job);
        byImport.set(n, job);
        if (started === options.holdStoresUntilStarts) {
          // The last held start: every store runs its jobs from now on, in start order.
          for (const held of jobs.values()) {
            held.inProgressMs = Math.max(held.submittedUntilMs, storeFreeAtMs.get(held.datastoreId) ?? now);
            held.endMs = held.inProgressMs + held.runMs;
            storeFreeAtMs.set(held.datastoreId, held.endMs);
          }
        }
        return [200, { JobId: job.jobId, JobStatus: 'SUBMITTED', DatastoreId: datastoreId }];
      }
      case 'DescribeFHIRImportJob': {
        counters.describe++;
        const job = jobs.get(String(input.JobId));
        if (!job || job.datastoreId !== input.DatastoreId)
          return [400, { __type: 'ResourceNotFoundException', message: `no job ${String(input.JobId)}` }];
        job.describes++;
        return [200, { ImportJobProperties: view(job, now) }];
      }
      case 'ListFHIRImportJobs': {
        counters.list++;
        const name = input.JobName === undefined ? undefined : text(input.JobName);
        const status = input.JobStatus === undefined ? undefined : text(input.JobStatus);
        const max = Number(input.MaxResults ?? 100);
        const offset = Number(input.NextToken ?? 0);
        const all = [...jobs.values()]
          .filter((j) => j.datastoreId === input.DatastoreId && (name === undefined || j.jobName === name))
          .map((j) => view(j, now))
          .filter((v) => status === undefined || v.JobStatus === status)
          // Newest first, as HealthLake lists.
          .reverse();
        const page = all.slice(offset, offset + max);
        const next = offset + max < all.length ? String(offset + max) : undefined;
        return [200, { ImportJobPropertiesList: page, ...(next === undefined ? {} : { NextToken: next }) }];
      }
      default:
        return [
          400,
          { __type: 'UnknownOperationException', message: `${operation} is not served by the scale fake` },
        ];
    }
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('HealthLake.') ? target.slice('HealthLake.'.length) : target;
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        input = {};
      }
      const [status, body] = handle(operation, input);
      const type = (body as { __type?: string }).__type;
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        ...(type ? { 'x-amzn-errortype': type } : {}),
      });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counters,
    jobOf(n) {
      const job = byImport.get(n);
      return job && { jobId: job.jobId, endMs: job.endMs, describes: job.describes };
    },
    stop: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
