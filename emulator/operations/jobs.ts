// StartFHIRImportJob, DescribeFHIRImportJob, ListFHIRImportJobs and their export twins. Starting
// records the job and hands it to the scheduler; the job engine does the work.
import type {
  DescribeFHIRExportJobRequest,
  DescribeFHIRExportJobResponse,
  DescribeFHIRImportJobRequest,
  DescribeFHIRImportJobResponse,
  ExportJobProperties,
  ImportJobProperties,
  ListFHIRExportJobsResponse,
  ListFHIRImportJobsRequest,
  ListFHIRImportJobsResponse,
  StartFHIRExportJobRequest,
  StartFHIRImportJobRequest,
  StartFHIRImportJobResponse,
} from '@aws-sdk/client-healthlake';
import { notFound, throttled, validationError } from '../errors';
import {
  NEWER_IMPORT_OPTION_NAMES,
  type JobKind,
  type JobRecord,
  type NewerImportOptions,
} from '../state/records';
import { fingerprint, toMs, toSeconds, type OnWire, type ServiceContext } from './context';
import { requireDatastore } from './datastores';
import { paginate } from './paginate';

const outputConfig = (job: JobRecord) => ({
  S3Configuration: { S3Uri: job.outputS3Uri, KmsKeyId: job.kmsKeyId },
});

/** The members import and export job properties share. */
const commonProperties = (job: JobRecord) => ({
  JobId: job.jobId,
  JobName: job.jobName,
  JobStatus: job.status,
  SubmitTime: toSeconds(job.submitTimeMs),
  EndTime: job.endTimeMs === undefined ? undefined : toSeconds(job.endTimeMs),
  DatastoreId: job.datastoreId,
  DataAccessRoleArn: job.dataAccessRoleArn,
  Message: job.message,
});

export function toImportJobProperties(job: JobRecord): OnWire<ImportJobProperties> {
  return {
    ...commonProperties(job),
    InputDataConfig: { S3Uri: job.inputS3Uri! },
    JobOutputDataConfig: outputConfig(job),
    JobProgressReport: job.progress ? { ...job.progress } : undefined,
    ValidationLevel: job.validationLevel,
    // Described back under the request's member names; the JS SDK drops them, boto3 1.44 reads them.
    ...job.newerImportOptions,
  };
}

export function toExportJobProperties(job: JobRecord): OnWire<ExportJobProperties> {
  return { ...commonProperties(job), OutputDataConfig: outputConfig(job) };
}

interface StartRequest {
  readonly kind: JobKind;
  readonly operation: string;
  readonly datastoreId: string;
  readonly jobName?: string;
  readonly inputS3Uri?: string;
  readonly output: { S3Uri?: string; KmsKeyId?: string };
  readonly dataAccessRoleArn: string;
  readonly clientToken?: string;
  readonly validationLevel?: JobRecord['validationLevel'];
  readonly newerImportOptions?: NewerImportOptions;
  readonly raw: unknown;
}

function startJob(ctx: ServiceContext, request: StartRequest): OnWire<StartFHIRImportJobResponse> {
  const requestFingerprint = fingerprint(request.raw);
  if (request.clientToken !== undefined) {
    const previous = [...ctx.state.jobs.values()].find(
      (j) => j.kind === request.kind && j.clientToken === request.clientToken,
    );
    if (previous) {
      if (previous.requestFingerprint !== requestFingerprint)
        throw validationError(
          `Value '${request.clientToken}' at 'clientToken' failed to satisfy constraint: ClientToken was already used with a different ${request.operation} request (job ${previous.jobId})`,
        );
      return { JobId: previous.jobId, JobStatus: previous.status, DatastoreId: previous.datastoreId };
    }
  }
  const datastore = requireDatastore(ctx, request.datastoreId);
  if (datastore.status !== 'ACTIVE')
    throw validationError(
      `Data store ${datastore.datastoreId} is ${datastore.status}; ${request.operation} needs an ACTIVE data store`,
    );
  const waiting = ctx.scheduler.waiting(datastore.datastoreId, request.kind);
  if (waiting >= ctx.settings.quotas.maxQueuedJobsPerDatastore)
    throw throttled(
      `Data store ${datastore.datastoreId} already has ${waiting} queued ${request.kind} jobs (limit ${ctx.settings.quotas.maxQueuedJobsPerDatastore})`,
    );
  const job: JobRecord = {
    kind: request.kind,
    jobId: ctx.newId(),
    datastoreId: datastore.datastoreId,
    jobName: request.jobName,
    status: ctx.scheduler.idle(datastore.datastoreId, request.kind) ? 'SUBMITTED' : 'QUEUED',
    submitTimeMs: ctx.nowMs(),
    inputS3Uri: request.inputS3Uri,
    outputS3Uri: request.output.S3Uri!,
    kmsKeyId: request.output.KmsKeyId!,
    dataAccessRoleArn: request.dataAccessRoleArn,
    validationLevel: request.validationLevel,
    ...(request.newerImportOptions ? { newerImportOptions: request.newerImportOptions } : {}),
    clientToken: request.clientToken,
    requestFingerprint,
    restarts: 0,
  };
  ctx.state.jobs.set(job.jobId, job);
  ctx.state.save();
  ctx.jobEvents?.jobCreated(job);
  ctx.scheduler.enqueue(job);
  return { JobId: job.jobId, JobStatus: job.status, DatastoreId: job.datastoreId };
}

export function startFHIRImportJob(ctx: ServiceContext, input: OnWire<StartFHIRImportJobRequest>) {
  return startJob(ctx, {
    kind: 'import',
    operation: 'StartFHIRImportJob',
    datastoreId: input.DatastoreId!,
    jobName: input.JobName,
    inputS3Uri: input.InputDataConfig!.S3Uri,
    output: input.JobOutputDataConfig!.S3Configuration!,
    dataAccessRoleArn: input.DataAccessRoleArn!,
    clientToken: input.ClientToken,
    validationLevel: input.ValidationLevel,
    newerImportOptions: newerImportOptions(input),
    raw: input,
  });
}

/** The newer-model members present in a StartFHIRImportJob request (validated by shapes.ts), if any. */
function newerImportOptions(input: object): NewerImportOptions | undefined {
  const given = Object.entries(input).filter(
    ([name, value]) => (NEWER_IMPORT_OPTION_NAMES as readonly string[]).includes(name) && value != null,
  );
  return given.length ? Object.fromEntries(given) : undefined;
}

export function startFHIRExportJob(ctx: ServiceContext, input: OnWire<StartFHIRExportJobRequest>) {
  return startJob(ctx, {
    kind: 'export',
    operation: 'StartFHIRExportJob',
    datastoreId: input.DatastoreId!,
    jobName: input.JobName,
    output: input.OutputDataConfig!.S3Configuration!,
    dataAccessRoleArn: input.DataAccessRoleArn!,
    clientToken: input.ClientToken,
    raw: input,
  });
}

function requireJob(ctx: ServiceContext, kind: JobKind, datastoreId: string, jobId: string): JobRecord {
  requireDatastore(ctx, datastoreId);
  const job = ctx.state.jobs.get(jobId);
  if (!job || job.kind !== kind || job.datastoreId !== datastoreId)
    throw notFound(
      `${kind === 'import' ? 'Import' : 'Export'} job ${jobId} does not exist in data store ${datastoreId}`,
    );
  return job;
}

export function describeFHIRImportJob(
  ctx: ServiceContext,
  input: OnWire<DescribeFHIRImportJobRequest>,
): OnWire<DescribeFHIRImportJobResponse> {
  return {
    ImportJobProperties: toImportJobProperties(requireJob(ctx, 'import', input.DatastoreId!, input.JobId!)),
  };
}

export function describeFHIRExportJob(
  ctx: ServiceContext,
  input: OnWire<DescribeFHIRExportJobRequest>,
): OnWire<DescribeFHIRExportJobResponse> {
  return {
    ExportJobProperties: toExportJobProperties(requireJob(ctx, 'export', input.DatastoreId!, input.JobId!)),
  };
}

function listJobs(ctx: ServiceContext, kind: JobKind, input: OnWire<ListFHIRImportJobsRequest>) {
  requireDatastore(ctx, input.DatastoreId!);
  const matching = [...ctx.state.jobs.values()]
    .filter(
      (j) =>
        j.kind === kind &&
        j.datastoreId === input.DatastoreId &&
        (input.JobName === undefined || j.jobName === input.JobName) &&
        (input.JobStatus === undefined || j.status === input.JobStatus) &&
        (input.SubmittedBefore === undefined || j.submitTimeMs < toMs(input.SubmittedBefore)) &&
        (input.SubmittedAfter === undefined || j.submitTimeMs > toMs(input.SubmittedAfter)),
    )
    .sort((a, b) => a.submitTimeMs - b.submitTimeMs || (a.jobId < b.jobId ? -1 : 1));
  const { NextToken: _token, MaxResults: _max, ...filter } = input;
  return paginate(matching, input, JSON.stringify(filter));
}

export function listFHIRImportJobs(
  ctx: ServiceContext,
  input: OnWire<ListFHIRImportJobsRequest>,
): OnWire<ListFHIRImportJobsResponse> {
  const page = listJobs(ctx, 'import', input);
  return { ImportJobPropertiesList: page.items.map(toImportJobProperties), NextToken: page.nextToken };
}

export function listFHIRExportJobs(
  ctx: ServiceContext,
  input: OnWire<ListFHIRImportJobsRequest>,
): OnWire<ListFHIRExportJobsResponse> {
  const page = listJobs(ctx, 'export', input);
  return { ExportJobPropertiesList: page.items.map(toExportJobProperties), NextToken: page.nextToken };
}
