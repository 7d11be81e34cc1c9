// The operator commands: import, status, list, cancel, register-search-attributes. Each talks to a
// Temporal server through the public client API (`--address`, `--namespace`), prints lines a person
// reads or one JSON document (`--json`), and returns an exit code (see `ExitCode`).
import { readFileSync } from 'node:fs';
import {
  Client,
  Connection,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { ApplicationFailure, type TypedSearchAttributes } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { InvalidFhirImportInput, readImportProgress, startFhirImport } from '../client';
import { validateFhirImportInput } from '../workflows/import-input';
import {
  HealthLakeDatastoreId,
  HealthLakeJobId,
  HealthLakeJobStatus,
  importSearchAttributes,
  type FhirImportInput,
  type FhirImportProgress,
  type FhirImportResult,
} from '../workflows/types';
import { CommandFailed, ExitCode, UsageError } from './errors';
import { renderProgressLine } from './progress-line';

export interface ConnectionFlags {
  readonly address: string;
  readonly namespace: string;
}

/** Where the worker started by `temporal-healthlake worker` polls by default (worker/config.ts). */
export const DEFAULT_TASK_QUEUE = 'healthlake-import';

async function withClient<T>(flags: ConnectionFlags, use: (client: Client) => Promise<T>): Promise<T> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: flags.address, connectTimeout: 5_000 });
  } catch (err) {
    throw new CommandFailed(`Temporal server ${flags.address} not reachable: ${firstLine(err)}`);
  }
  try {
    return await use(new Client({ connection, namespace: flags.namespace }));
  } finally {
    await connection.close();
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

const MB = 1_000_000;

// ---------------------------------------------------------------------------------------------
// import

export interface ImportFlags extends ConnectionFlags {
  readonly callerKey: string;
  readonly taskQueue: string;
  readonly datastoreId: string;
  readonly inputS3Uri: string;
  readonly outputS3Uri: string;
  readonly kmsKeyId: string;
  readonly dataAccessRoleArn: string;
  readonly jobName?: string;
  readonly validationLevel?: string;
  readonly pollPolicy?: string;
  readonly deadline?: string;
  readonly maxErrorRate?: string;
  readonly existingJobId?: string;
  readonly manifest?: string;
  readonly reconciliation?: string;
  readonly apiTaskQueue?: string;
  readonly rerun?: string;
  readonly wait?: boolean;
  readonly json?: boolean;
}

/** `--name <json>` or `--name @file.json`: a JSON object, or a usage error naming the flag. */
function jsonFlag(flag: string, text: string): Record<string, unknown> {
  let source = text;
  if (text.startsWith('@')) {
    try {
      source = readFileSync(text.slice(1), 'utf8');
    } catch (err) {
      throw new UsageError(`${flag}: cannot read ${text.slice(1)}: ${firstLine(err)}`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (err) {
    throw new UsageError(`${flag} must be a JSON object (or @file.json): ${firstLine(err)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${flag} must be a JSON object (or @file.json)`);
  }
  return value as Record<string, unknown>;
}

/** The `FhirImportInput` the flags describe (the workflow's validator checks the values). */
export function importInputFromFlags(flags: ImportFlags): FhirImportInput {
  let maxErrorRate: number | undefined;
  if (flags.maxErrorRate !== undefined) {
    maxErrorRate = Number(flags.maxErrorRate);
    if (flags.maxErrorRate.trim() === '' || !Number.isFinite(maxErrorRate)) {
      throw new UsageError(`--max-error-rate "${flags.maxErrorRate}" must be a number in 0..1`);
    }
  }
  return {
    datastoreId: flags.datastoreId,
    inputS3Uri: flags.inputS3Uri,
    outputS3Uri: flags.outputS3Uri,
    kmsKeyId: flags.kmsKeyId,
    dataAccessRoleArn: flags.dataAccessRoleArn,
    ...(flags.jobName === undefined ? {} : { jobName: flags.jobName }),
    ...(flags.validationLevel === undefined
      ? {}
      : { validationLevel: flags.validationLevel as FhirImportInput['validationLevel'] }),
    ...(flags.pollPolicy === undefined ? {} : { pollPolicy: jsonFlag('--poll-policy', flags.pollPolicy) }),
    ...(flags.deadline === undefined ? {} : { deadline: flags.deadline }),
    ...(maxErrorRate === undefined
      ? {}
      : { completedWithErrors: { mode: 'fail-above-error-rate' as const, maxErrorRate } }),
    ...(flags.existingJobId === undefined ? {} : { existingJobId: flags.existingJobId }),
    ...(flags.manifest === undefined
      ? {}
      : { manifest: jsonFlag('--manifest', flags.manifest) as unknown as FhirImportInput['manifest'] }),
    ...(flags.reconciliation === undefined
      ? {}
      : { reconciliation: flags.reconciliation as FhirImportInput['reconciliation'] }),
    ...(flags.apiTaskQueue === undefined ? {} : { apiTaskQueue: flags.apiTaskQueue }),
  };
}

/** One line for a finished import (the `--wait` summary without `--json`). */
export function renderImportResult(result: FhirImportResult): string {
  const c = result.progress.counts;
  return (
    `import ${result.status}: job ${result.jobId}, ${c.resourcesImported.toLocaleString('en-US')} imported, ` +
    `${c.resourcesWithCustomerError.toLocaleString('en-US')} rejected of ${c.resourcesScanned.toLocaleString('en-US')} scanned, ` +
    `${c.scannedMb.toFixed(1)} MB, ${result.describeCalls} Describe calls, ${(result.durationMs / 1000).toFixed(1)} s`
  );
}

/** The one line for a failed import: the failure type and message of the cause that says why. */
function failureLine(err: WorkflowFailedError): string {
  let cause: unknown = err.cause;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure)
    return `import failed: ${cause.type ?? 'Error'}: ${firstLine(cause)}`;
  return `import failed: ${firstLine(cause ?? err)}`;
}

export async function importCommand(flags: ImportFlags): Promise<ExitCode> {
  if (flags.rerun !== undefined && flags.rerun !== 'failed-only' && flags.rerun !== 'never') {
    throw new UsageError(`--rerun "${flags.rerun}" must be failed-only or never`);
  }
  const input = importInputFromFlags(flags);
  // Checked before connecting: a bad value is a usage error whether or not a server answers.
  const validation = validateFhirImportInput(input, Date.now());
  if (!validation.ok) throw new UsageError(new InvalidFhirImportInput(validation.errors).message);
  return withClient(flags, async (client) => {
    let handle;
    try {
      handle = await startFhirImport(client, {
        callerKey: flags.callerKey,
        taskQueue: flags.taskQueue,
        input,
        ...(flags.rerun === undefined ? {} : { rerun: flags.rerun as 'failed-only' | 'never' }),
      });
    } catch (err) {
      if (err instanceof InvalidFhirImportInput) throw new UsageError(err.message);
      throw new CommandFailed(`could not start the import: ${firstLine(err)}`);
    }
    // With --json stdout is the one JSON document; everything for people goes to stderr.
    const say = (text: string): void => {
      (flags.json ? process.stderr : process.stdout).write(`${text}\n`);
    };
    say(`import ${handle.workflowId} on task queue ${flags.taskQueue}`);
    if (!flags.wait) {
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ workflowId: handle.workflowId })}\n`);
      }
      return ExitCode.Ok;
    }
    const stopWatching = new AbortController();
    const watching = watchProgress(client, handle.workflowId, say, stopWatching.signal);
    let result: FhirImportResult;
    try {
      result = await handle.result();
    } catch (err) {
      if (err instanceof WorkflowFailedError) {
        stopWatching.abort();
        await watching;
        process.stderr.write(`${failureLine(err)}\n`);
        return ExitCode.Failed;
      }
      throw err;
    } finally {
      stopWatching.abort();
      await watching;
    }
    say(renderProgressLine(result.progress, undefined));
    say(renderImportResult(result));
    if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return ExitCode.Ok;
  });
}

/** Prints the progress line whenever it changes, until `signal` aborts. */
async function watchProgress(
  client: Client,
  workflowId: string,
  say: (text: string) => void,
  signal: AbortSignal,
): Promise<void> {
  let last = '';
  while (!signal.aborted) {
    try {
      const { progress } = await readImportProgress(client, workflowId);
      const text = renderProgressLine(progress, totalBytes(progress));
      if (text !== last && progress.status !== 'NOT_STARTED') say(text);
      last = text;
    } catch {
      // Between two states (no worker yet, workflow just closed): the next read answers.
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 500);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}

/** Total bytes landed, derived from percent and MB scanned when a manifest gave a percent. */
function totalBytes(progress: FhirImportProgress): number | undefined {
  if (progress.percent === undefined || progress.percent <= 0) return undefined;
  return (progress.counts.scannedMb * MB * 100) / progress.percent;
}

// ---------------------------------------------------------------------------------------------
// status

export interface StatusFlags extends ConnectionFlags {
  readonly json?: boolean;
}

/** The `status` table: one `label  value` per line, labels aligned. */
export function renderStatus(
  workflowId: string,
  workflowStatus: string,
  progress: FhirImportProgress,
  source: string,
): string[] {
  const c = progress.counts;
  const n = (value: number) => value.toLocaleString('en-US');
  const rows: Array<[string, string]> = [
    ['workflow', `${workflowId} (${workflowStatus})`],
    ['data store', progress.datastoreId],
    ['job', progress.jobId ?? '(not started)'],
    ['status', progress.status],
    ['resources imported', n(c.resourcesImported)],
    ['resources scanned', n(c.resourcesScanned)],
    ['resources rejected', n(c.resourcesWithCustomerError)],
    ['files scanned', n(c.scannedFiles)],
    ['files imported', n(c.importedFiles)],
    ['files unreadable', n(c.filesReadWithCustomerError)],
    ['scanned', `${c.scannedMb.toFixed(1)} MB`],
    ['throughput', `${c.throughput.toFixed(2)} MB/s`],
  ];
  if (progress.percent !== undefined) rows.push(['percent', `${progress.percent.toFixed(1)} %`]);
  if (progress.etaMs !== undefined) rows.push(['ETA', `${Math.ceil(progress.etaMs / 1000)} s`]);
  rows.push(['Describe calls', n(progress.describeCalls)], ['source', source]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
}

export async function statusCommand(workflowId: string, flags: StatusFlags): Promise<ExitCode> {
  return withClient(flags, async (client) => {
    let description: WorkflowExecutionDescription;
    try {
      description = await client.workflow.getHandle(workflowId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new CommandFailed(`workflow ${workflowId} not found in namespace ${flags.namespace}`);
      }
      throw err;
    }
    const live = await readImportProgress(client, workflowId);
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ workflowId, workflowStatus: description.status.name, ...live }, null, 2)}\n`,
      );
    } else {
      for (const text of renderStatus(workflowId, description.status.name, live.progress, live.source)) {
        process.stdout.write(`${text}\n`);
      }
    }
    return ExitCode.Ok;
  });
}

// ---------------------------------------------------------------------------------------------
// list

export interface ListFlags extends ConnectionFlags {
  readonly datastoreId?: string;
  readonly jobStatus?: string;
  readonly workflowStatus?: string;
  readonly limit: string;
  readonly json?: boolean;
}

const QUERY_VALUE = /^[A-Za-z0-9_.:-]+$/;

/** The visibility query for the filters; values are checked so they cannot break out of quotes. */
export function listQuery(flags: Pick<ListFlags, 'datastoreId' | 'jobStatus' | 'workflowStatus'>): string {
  const clauses = [`WorkflowType = 'fhirImportWorkflow'`];
  const add = (flag: string, field: string, value: string | undefined): void => {
    if (value === undefined) return;
    if (!QUERY_VALUE.test(value)) {
      throw new UsageError(`${flag} "${value}" may hold only letters, digits and _ . : -`);
    }
    clauses.push(`${field} = '${value}'`);
  };
  add('--datastore-id', HealthLakeDatastoreId.name, flags.datastoreId);
  add('--status', HealthLakeJobStatus.name, flags.jobStatus);
  add('--workflow-status', 'ExecutionStatus', flags.workflowStatus);
  return clauses.join(' AND ');
}

interface ListedImport {
  readonly workflowId: string;
  readonly workflowStatus: string;
  readonly datastoreId?: string;
  readonly jobId?: string;
  readonly jobStatus?: string;
  readonly startTime: string;
}

function keyword(attributes: TypedSearchAttributes, key: typeof HealthLakeJobId): string | undefined {
  return attributes.get(key);
}

export async function listCommand(flags: ListFlags): Promise<ExitCode> {
  const limit = Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new UsageError(`--limit "${flags.limit}" must be a positive integer`);
  }
  const query = listQuery(flags);
  return withClient(flags, async (client) => {
    const rows: ListedImport[] = [];
    for await (const execution of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
      const attributes = execution.typedSearchAttributes;
      rows.push({
        workflowId: execution.workflowId,
        workflowStatus: execution.status.name,
        ...optional('datastoreId', keyword(attributes, HealthLakeDatastoreId)),
        ...optional('jobId', keyword(attributes, HealthLakeJobId)),
        ...optional('jobStatus', keyword(attributes, HealthLakeJobStatus)),
        startTime: execution.startTime.toISOString(),
      });
      if (rows.length >= limit) break;
    }
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return ExitCode.Ok;
    }
    const table = [
      ['WORKFLOW ID', 'WORKFLOW', 'JOB STATUS', 'JOB ID', 'DATA STORE', 'STARTED'],
      ...rows.map((r) => [
        r.workflowId,
        r.workflowStatus,
        r.jobStatus ?? '-',
        r.jobId ?? '-',
        r.datastoreId ?? '-',
        r.startTime,
      ]),
    ];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table) {
      process.stdout.write(
        `${row
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd()}\n`,
      );
    }
    return ExitCode.Ok;
  });
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

// ---------------------------------------------------------------------------------------------
// cancel

export async function cancelCommand(workflowId: string, flags: ConnectionFlags): Promise<ExitCode> {
  return withClient(flags, async (client) => {
    try {
      await client.workflow.getHandle(workflowId).cancel();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        throw new CommandFailed(
          `workflow ${workflowId} not found or already closed in namespace ${flags.namespace}`,
        );
      }
      throw new CommandFailed(`cancel ${workflowId}: ${firstLine(err)}`);
    }
    process.stdout.write(
      `cancel requested for ${workflowId} (the wait stops; a HealthLake import job itself cannot be cancelled)\n`,
    );
    return ExitCode.Ok;
  });
}

// ---------------------------------------------------------------------------------------------
// register-search-attributes

/** The exact `tcld` command registering the attributes in a Temporal Cloud namespace. */
export function tcldCommand(namespace: string): string {
  const attributes = Object.entries(importSearchAttributes)
    .map(([name, type]) => `--search-attribute "${name}=${type}"`)
    .join(' ');
  return `tcld namespace search-attributes add --namespace ${namespace} ${attributes}`;
}

export interface RegisterFlags extends ConnectionFlags {
  readonly cloud?: boolean;
}

export async function registerSearchAttributesCommand(flags: RegisterFlags): Promise<ExitCode> {
  if (flags.cloud) {
    // Temporal Cloud registers search attributes through its control plane, not the operator API.
    process.stdout.write(
      `Temporal Cloud: run\n  ${tcldCommand(flags.namespace)}\n` +
        `or in the Cloud UI: Namespaces > ${flags.namespace} > Custom Search Attributes > Add: ` +
        `${Object.keys(importSearchAttributes).join(', ')} (type Keyword)\n`,
    );
    return ExitCode.Ok;
  }
  return withClient(flags, async (client) => {
    const operator = client.connection.operatorService;
    const listed = await operator.listSearchAttributes({ namespace: flags.namespace });
    const existing = listed.customAttributes ?? {};
    const missing = Object.keys(importSearchAttributes).filter((name) => !(name in existing));
    for (const name of Object.keys(importSearchAttributes)) {
      if (
        name in existing &&
        existing[name] !== temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
      ) {
        throw new CommandFailed(
          `search attribute ${name} exists in namespace ${flags.namespace} with another type (Keyword needed)`,
        );
      }
    }
    if (missing.length > 0) {
      try {
        await operator.addSearchAttributes({
          namespace: flags.namespace,
          searchAttributes: Object.fromEntries(
            missing.map((name) => [name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
          ),
        });
      } catch (err) {
        throw new CommandFailed(
          `could not add ${missing.join(', ')} in namespace ${flags.namespace}: ${firstLine(err)} ` +
            `(Temporal Cloud: ${tcldCommand(flags.namespace)})`,
        );
      }
    }
    for (const name of Object.keys(importSearchAttributes)) {
      process.stdout.write(`${name} (Keyword): ${missing.includes(name) ? 'added' : 'already registered'}\n`);
    }
    return ExitCode.Ok;
  });
}
