// `temporal-healthlake` as an operator runs it: spawned as a process, exit codes and output lines
// asserted exactly. Help and usage errors need no server; import/status/list/cancel and
// register-search-attributes run against a real dev server, the emulator over HTTP and a worker.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DescribeFHIRImportJobCommand } from '@aws-sdk/client-healthlake';
import { readImportProgress, startFhirImport } from '../client';
import type { HealthLakeWorker } from '../worker';
import type { FhirImportResult } from '../workflows/types';
import { CLI_MAIN, runCli, type CliRun } from './helpers/cli-process';
import { FAST_POLL, startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import { waitFor } from './helpers/wait-for';

const VERSION = (
  JSON.parse(readFileSync(resolve(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
).version;

function lines(text: string): string[] {
  // The SDK's Node-version notice is not ours.
  return text.split('\n').filter((l) => l.trim() !== '' && !l.includes('NODE_OPTIONS'));
}

/** The CLI run to its end, with no Temporal address or namespace from this environment. */
const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> =>
  runCli(args, { env: { TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '', ...env } });

/** Flags a command requires, so a wrong flag is what the parser meets first. */
const REQUIRED: Record<string, string[]> = {
  import: ['--caller-key', 'k', '--datastore-id', 'd', '--input-s3-uri', 'i', '--output-s3-uri', 'o'],
  'generate-fhir': ['--patients', '1', '--out', 'x'],
  relay: ['--queue-url', 'http://127.0.0.1:1/123456789012/q'],
  'events-setup': ['--region', 'us-east-1', '--account', '123456789012'],
};
REQUIRED.import!.push('--kms-key-id', 'k', '--data-access-role-arn', 'r');

const COMMANDS = [
  'import',
  'status',
  'list',
  'cancel',
  'register-search-attributes',
  'worker',
  'emulator',
  'generate-fhir',
  'demo',
  'setup',
  'codec-server',
  'relay',
  'events-setup',
];

describe('temporal-healthlake: help, version, usage errors', () => {
  for (const command of COMMANDS) {
    it(`${command} --help exits 0 and shows an example; a wrong flag exits 2 with one line`, async () => {
      const [help, short, wrong] = await Promise.all([
        cli([command, '--help']),
        cli([command, '-h']),
        cli([command, ...(REQUIRED[command] ?? []), '--bogus-flag']),
      ]);
      assert.equal(help.code, 0, help.stderr);
      assert.equal(help.stderr, '');
      const out = lines(help.stdout);
      assert.match(out[0]!, new RegExp(`^Usage: temporal-healthlake ${command} `));
      const exampleAt = out.indexOf('Example:');
      assert.ok(exampleAt > 0, help.stdout);
      assert.match(out[exampleAt + 1]!, new RegExp(`^  \\$ temporal-healthlake ${command}( |$)`));
      assert.equal(short.code, 0);
      assert.equal(short.stdout, help.stdout);
      assert.equal(wrong.code, 2);
      assert.equal(wrong.stdout, '');
      assert.deepEqual(lines(wrong.stderr), ["error: unknown option '--bogus-flag' (see --help)"]);
    });
  }

  it('--version prints the package version; -h and --help exit 0; no command or an unknown one exits 2', async () => {
    const [version, h, help, none, unknown, badChoice] = await Promise.all([
      cli(['--version']),
      cli(['-h']),
      cli(['--help']),
      cli([]),
      cli(['imprt']),
      cli(['emulator', '--preset', 'slow']),
    ]);
    assert.deepEqual([version.code, version.stdout], [0, `${VERSION}\n`]);
    assert.equal(h.code, 0);
    assert.equal(help.code, 0);
    assert.equal(h.stdout, help.stdout);
    for (const command of COMMANDS) assert.match(help.stdout, new RegExp(`\\n  ${command} `));
    assert.equal(none.code, 2);
    assert.equal(none.stdout, '');
    assert.match(none.stderr, /^Usage: temporal-healthlake \[options\] \[command\]/);
    assert.equal(unknown.code, 2);
    assert.deepEqual(lines(unknown.stderr), [
      "error: unknown command 'imprt' (Did you mean import?) (see --help)",
    ]);
    assert.equal(badChoice.code, 2);
    assert.deepEqual(lines(badChoice.stderr), [
      "error: option '--preset <name>' argument 'slow' is invalid. Allowed choices are fast, aws. (see --help)",
    ]);
  });

  it('import without a required flag exits 2 naming it; a bad value exits 2 naming field, value and rule', async () => {
    const required = await cli(['import', '--caller-key', 'k']);
    assert.equal(required.code, 2);
    assert.deepEqual(lines(required.stderr), [
      "error: required option '--datastore-id <id>' not specified (see --help)",
    ]);
    const bad = await cli([
      'import',
      '--caller-key',
      'k',
      '--datastore-id',
      'd'.repeat(32),
      '--input-s3-uri',
      'http://not-s3/',
      '--output-s3-uri',
      's3://b/out/',
      '--kms-key-id',
      'alias/k',
      '--data-access-role-arn',
      'arn:aws:iam::123456789012:role/R',
      '--address',
      '127.0.0.1:1',
    ]);
    assert.equal(bad.code, 2);
    const [only, ...rest] = lines(bad.stderr);
    assert.deepEqual(rest, []);
    assert.equal(
      only,
      'error: invalid FhirImportInput: input.inputS3Uri "http://not-s3/" must match s3://<bucket>/<prefix> ' +
        '(bucket: 3-63 lowercase letters, digits, dots, hyphens); input.outputS3Uri "s3://b/out/" must match ' +
        's3://<bucket>/<prefix> (bucket: 3-63 lowercase letters, digits, dots, hyphens)',
    );
  });
});

describe('temporal-healthlake against a dev server, the emulator and a worker', () => {
  let stack: ImportTestStack;
  let worker: HealthLakeWorker;
  let running: Promise<void>;
  let connection: NodeJS.ProcessEnv;
  const taskQueue = uniqueName('cli');

  before(async () => {
    stack = await startImportTestStack();
    worker = await stack.worker(taskQueue);
    running = worker.run();
    connection = {
      TEMPORAL_ADDRESS: stack.temporal.server!.address,
      TEMPORAL_NAMESPACE: stack.temporal.server!.namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
    };
  });
  after(async () => {
    worker?.shutdown();
    await running;
    await stack?.stop();
  });

  const importArgs = (callerKey: string, datastoreId: string, prefix: string): string[] => {
    const input = stack.input(datastoreId, prefix);
    return [
      'import',
      '--caller-key',
      callerKey,
      '--datastore-id',
      input.datastoreId,
      '--input-s3-uri',
      input.inputS3Uri,
      '--output-s3-uri',
      input.outputS3Uri,
      '--kms-key-id',
      input.kmsKeyId,
      '--data-access-role-arn',
      input.dataAccessRoleArn,
      '--validation-level',
      'strict',
      '--poll-policy',
      JSON.stringify(FAST_POLL),
    ];
  };

  it('import --wait --json returns the FhirImportResult with the emulator counts; status and list agree', async () => {
    const datastoreId = await stack.newDatastore(uniqueName('cli-store'));
    const prefix = uniqueName('cli-data');
    const data = await stack.land(prefix, 12, 0.02);
    const callerKey = uniqueName('batch');
    const run = await cli([...importArgs(callerKey, datastoreId, prefix), '--wait', '--json'], connection);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as FhirImportResult;
    const described = await stack.healthLake.send(
      new DescribeFHIRImportJobCommand({ DatastoreId: datastoreId, JobId: result.jobId }),
    );
    const report = described.ImportJobProperties!.JobProgressReport!;
    assert.equal(result.status, described.ImportJobProperties!.JobStatus);
    assert.equal(result.datastoreId, datastoreId);
    assert.equal(result.progress.counts.resourcesImported, report.TotalNumberOfResourcesImported);
    assert.equal(result.progress.counts.resourcesScanned, report.TotalNumberOfResourcesScanned);
    assert.equal(
      result.progress.counts.resourcesWithCustomerError,
      report.TotalNumberOfResourcesWithCustomerError,
    );
    assert.equal(result.progress.counts.resourcesScanned, data.counts.resources);
    assert.equal(result.progress.counts.resourcesWithCustomerError, data.counts.invalidLines);
    assert.ok(data.counts.invalidLines > 0);
    // People's lines go to stderr with --json: the start line first, the summary last.
    const said = lines(run.stderr);
    assert.equal(said[0], `import fhir-import-${callerKey} on task queue ${taskQueue}`);
    assert.equal(
      said.at(-1),
      `import ${result.status}: job ${result.jobId}, ${report.TotalNumberOfResourcesImported!.toLocaleString('en-US')} imported, ` +
        `${data.counts.invalidLines} rejected of ${data.counts.resources.toLocaleString('en-US')} scanned, ` +
        `${result.progress.counts.scannedMb.toFixed(1)} MB, ${result.describeCalls} Describe calls, ${(result.durationMs / 1000).toFixed(1)} s`,
    );

    // The same caller key attaches to the same import: the same job, no second start.
    const again = await cli([...importArgs(callerKey, datastoreId, prefix), '--wait', '--json'], connection);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as FhirImportResult).jobId, result.jobId);

    const status = await cli(['status', `fhir-import-${callerKey}`], connection);
    assert.equal(status.code, 0, status.stderr);
    const table = lines(status.stdout);
    assert.equal(table[0], `workflow            fhir-import-${callerKey} (COMPLETED)`);
    assert.ok(table.includes(`job                 ${result.jobId}`), status.stdout);
    assert.ok(table.includes(`status              ${result.status}`), status.stdout);
    assert.ok(
      table.includes(`resources imported  ${report.TotalNumberOfResourcesImported!.toLocaleString('en-US')}`),
      status.stdout,
    );
    assert.ok(table.includes(`resources rejected  ${data.counts.invalidLines}`), status.stdout);
  });

  it("status shows a held job's counts as the emulator reports them; list filters by status; cancel stops the wait", async () => {
    const datastoreId = await stack.newDatastore(uniqueName('cli-held'));
    const prefix = uniqueName('cli-held-data');
    await stack.land(prefix, 30);
    const callerKey = uniqueName('held');
    const workflowId = `fhir-import-${callerKey}`;
    // Held mid-run: counts stop moving.
    const {
      started,
      jobId,
      report: held,
    } = await stack.holdJobMidRun(datastoreId, () =>
      cli([...importArgs(callerKey, datastoreId, prefix), '--json'], connection),
    );
    assert.equal(started.code, 0, started.stderr);
    assert.deepEqual(JSON.parse(started.stdout), { workflowId });
    try {
      // The workflow has seen the held counts (a heartbeat after the hang).
      await waitFor(
        () => readImportProgress(stack.temporal.env.client, workflowId),
        (live) => live.progress.counts.resourcesImported === held.TotalNumberOfResourcesImported,
        'the heartbeat to carry the held counts',
      );
      const status = await cli(['status', workflowId, '--json'], connection);
      assert.equal(status.code, 0, status.stderr);
      const live = JSON.parse(status.stdout) as {
        workflowStatus: string;
        source: string;
        progress: FhirImportResult['progress'];
      };
      assert.equal(live.workflowStatus, 'RUNNING');
      assert.equal(live.source, 'heartbeat');
      assert.equal(live.progress.status, 'IN_PROGRESS');
      assert.equal(live.progress.jobId, jobId);
      assert.equal(live.progress.counts.resourcesImported, held.TotalNumberOfResourcesImported);
      assert.equal(live.progress.counts.resourcesScanned, held.TotalNumberOfResourcesScanned);
      assert.equal(live.progress.counts.scannedFiles, held.TotalNumberOfScannedFiles);
      const text = await cli(['status', workflowId], connection);
      assert.equal(text.code, 0, text.stderr);
      assert.ok(
        lines(text.stdout).includes(
          `resources imported  ${held.TotalNumberOfResourcesImported!.toLocaleString('en-US')}`,
        ),
        text.stdout,
      );

      // Visibility catches up with the upsert asynchronously.
      const inProgress = await waitFor(
        async () =>
          cli(['list', '--status', 'IN_PROGRESS', '--datastore-id', datastoreId, '--json'], connection),
        (r) => r.code === 0 && (JSON.parse(r.stdout) as unknown[]).length === 1,
        'list --status IN_PROGRESS to show the held import',
        { stepMs: 200 },
      );
      const [row] = JSON.parse(inProgress.stdout) as Array<Record<string, string>>;
      assert.deepEqual(
        { ...row, startTime: undefined },
        {
          workflowId,
          workflowStatus: 'RUNNING',
          datastoreId,
          jobId,
          jobStatus: 'IN_PROGRESS',
          startTime: undefined,
        },
      );
      const completed = await cli(
        ['list', '--status', 'COMPLETED', '--datastore-id', datastoreId],
        connection,
      );
      assert.equal(completed.code, 0, completed.stderr);
      assert.deepEqual(lines(completed.stdout), [
        'WORKFLOW ID  WORKFLOW  JOB STATUS  JOB ID  DATA STORE  STARTED',
      ]);
      const table = await cli(['list', '--status', 'IN_PROGRESS', '--datastore-id', datastoreId], connection);
      assert.match(
        lines(table.stdout)[1]!,
        new RegExp(`^${workflowId}  RUNNING   IN_PROGRESS  ${jobId}  ${datastoreId}  \\d{4}-`),
      );

      const cancel = await cli(['cancel', workflowId], connection);
      assert.equal(cancel.code, 0, cancel.stderr);
      assert.deepEqual(lines(cancel.stdout), [
        `cancel requested for ${workflowId} (the wait stops; a HealthLake import job itself cannot be cancelled)`,
      ]);
      // Attaching with --wait now reports the failure on one line, exit 1.
      const attached = await cli(
        [...importArgs(callerKey, datastoreId, prefix), '--wait', '--rerun', 'never'],
        connection,
      );
      assert.equal(attached.code, 1, attached.stderr);
      const failure = lines(attached.stderr);
      assert.equal(failure.length, 1, attached.stderr);
      assert.match(failure[0]!, new RegExp(`^import failed: ImportWaitCancelled: .*${jobId}`));
    } finally {
      stack.local.emulator.jobs.release(jobId);
    }
  });

  it('status answers from the finished import with no worker polling (the query would fail)', async () => {
    const datastoreId = await stack.newDatastore(uniqueName('cli-gone'));
    const prefix = uniqueName('cli-gone-data');
    await stack.land(prefix, 4);
    const queue = uniqueName('cli-gone-queue');
    const own = await stack.worker(queue);
    const handle = await startFhirImport(stack.temporal.env.client, {
      callerKey: uniqueName('gone'),
      taskQueue: queue,
      input: stack.input(datastoreId, prefix),
    });
    const result = await own.runUntil(handle.result());
    // The worker of that task queue is gone: nothing can answer a query for this workflow.
    const status = await cli(['status', handle.workflowId, '--json'], connection);
    assert.equal(status.code, 0, status.stderr);
    const read = JSON.parse(status.stdout) as { workflowStatus: string; source: string; progress: unknown };
    assert.deepEqual(read, {
      workflowId: handle.workflowId,
      workflowStatus: 'COMPLETED',
      source: 'result',
      progress: result.progress,
    });
  });

  it('worker runs the worker pair from its flags, completes an import, and exits 0 on SIGTERM', async () => {
    const queue = uniqueName('cli-worker');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI_MAIN,
        'worker',
        '--task-queue',
        queue,
        '--healthlake-endpoint',
        stack.local.emulator.url,
        '--s3-endpoint',
        stack.local.s3Server.endpoint,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...connection, TEMPORAL_TASK_QUEUE: '' } },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', done));
    try {
      await waitFor(
        () => stderr,
        (text) => text.includes('healthlake worker ready:'),
        'the worker to be ready',
        { stepMs: 100 },
      );
      assert.ok(stderr.includes(`task queues ${queue}, ${queue}-healthlake-api`), stderr);
      const datastoreId = await stack.newDatastore(uniqueName('cli-worker-store'));
      const prefix = uniqueName('cli-worker-data');
      const data = await stack.land(prefix, 3);
      const handle = await startFhirImport(stack.temporal.env.client, {
        callerKey: uniqueName('by-cli-worker'),
        taskQueue: queue,
        input: stack.input(datastoreId, prefix),
      });
      const result = await handle.result();
      assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
  });

  it('status of a missing workflow exits 1 with one line', async () => {
    const missing = await cli(['status', 'fhir-import-nope'], connection);
    assert.equal(missing.code, 1);
    assert.deepEqual(lines(missing.stderr), [
      `error: workflow fhir-import-nope not found in namespace ${stack.temporal.server!.namespace}`,
    ]);
  });

  it('register-search-attributes adds the three attributes to a namespace, then finds them registered', async () => {
    const namespace = uniqueName('cli-ns');
    await stack.temporal.env.connection.workflowService.registerNamespace({
      namespace,
      // protobufjs takes a number for the int64 seconds.
      workflowExecutionRetentionPeriod: { seconds: 86_400 as never },
    });
    const env = { ...connection, TEMPORAL_NAMESPACE: namespace };
    // A namespace just registered takes a moment to be known to every service.
    const first = await waitFor(
      () => cli(['register-search-attributes'], env),
      (r) => r.code === 0,
      'the new namespace to accept search attributes',
      { stepMs: 500 },
    );
    assert.deepEqual(lines(first.stdout), [
      'HealthLakeDatastoreId (Keyword): added',
      'HealthLakeJobId (Keyword): added',
      'HealthLakeJobStatus (Keyword): added',
    ]);
    const second = await cli(['register-search-attributes', '--namespace', namespace], connection);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(lines(second.stdout), [
      'HealthLakeDatastoreId (Keyword): already registered',
      'HealthLakeJobId (Keyword): already registered',
      'HealthLakeJobStatus (Keyword): already registered',
    ]);
    const cloud = await cli(
      ['register-search-attributes', '--cloud', '--namespace', 'prod.a1b2c'],
      connection,
    );
    assert.equal(cloud.code, 0);
    assert.deepEqual(lines(cloud.stdout), [
      'Temporal Cloud: run',
      '  tcld namespace search-attributes add --namespace prod.a1b2c --search-attribute "HealthLakeDatastoreId=Keyword" --search-attribute "HealthLakeJobId=Keyword" --search-attribute "HealthLakeJobStatus=Keyword"',
      'or in the Cloud UI: Namespaces > prod.a1b2c > Custom Search Attributes > Add: HealthLakeDatastoreId, HealthLakeJobId, HealthLakeJobStatus (type Keyword)',
    ]);
  });
});
