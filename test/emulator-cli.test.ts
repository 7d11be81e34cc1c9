// `temporal-healthlake emulator` as a user runs it: it starts moto itself, prints the URL it
// listens on (127.0.0.1 only), answers the real SDK, stops cleanly on SIGTERM, and after a crash
// (SIGKILL mid-import) a new process on the same --data-dir finishes the job.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import {
  CreateFHIRDatastoreCommand,
  HealthLakeClient,
  ListFHIRDatastoresCommand,
  StartFHIRImportJobCommand,
} from '@aws-sdk/client-healthlake';
import type { JobSummary } from '../emulator/index';
import { generateFhirData, writeFhirDataToS3 } from '../emulator/fhir/generate';
import { createS3Client } from '../emulator/s3';
import { startS3Server } from '../emulator/s3-server';
import { waitForDatastore, waitForImportJob } from '../emulator/testing';
import { CLI_MAIN, runCli } from './helpers/cli-process';

/** Starts the CLI and resolves with the process and the URL it printed (its stdout, line by line). */
async function startCli(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'emulator', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = (await lines.next()).value as string;
  const match = /^HealthLake emulator listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(first);
  assert.ok(match, `unexpected first line: ${first}`);
  const url = match[1]!;
  const healthLake = new HealthLakeClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return { child, lines, url, healthLake };
}

describe('temporal-healthlake emulator', () => {
  it('prints its 127.0.0.1 URL, serves the SDK, keeps state in --data-dir and exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'thl-cli-'));
    const { child, lines, healthLake } = await startCli(['--data-dir', dataDir, '--preset', 'fast']);
    assert.match(
      (await lines.next()).value as string,
      /^S3 endpoint: http:\/\/127\.0\.0\.1:\d+ \(moto, started by the emulator\)$/,
    );

    await healthLake.send(
      new CreateFHIRDatastoreCommand({ DatastoreName: 'cli', DatastoreTypeVersion: 'R4' }),
    );
    const listed = await healthLake.send(new ListFHIRDatastoresCommand({}));
    assert.deepEqual(
      listed.DatastorePropertiesList!.map((d) => d.DatastoreName),
      ['cli'],
    );
    healthLake.destroy();

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    assert.ok(existsSync(join(dataDir, 'state.json')));
  });

  it('rejects a bad flag with exit code 2 and one line', async () => {
    const { code, stderr } = await runCli(['emulator', '--preset', 'slow']);
    assert.equal(code, 2);
    // One line from the CLI's parser: the choices, in the order the help lists them.
    assert.equal(
      stderr,
      "error: option '--preset <name>' argument 'slow' is invalid. Allowed choices are fast, aws. (see --help)\n",
    );
  });

  it('survives SIGKILL mid-import: a new process on the same --data-dir finishes the job', async () => {
    const s3Server = await startS3Server();
    const dataDir = mkdtempSync(join(tmpdir(), 'thl-cli-crash-'));
    const data = generateFhirData({ patients: 5, seed: 9, maxFileBytes: 20_000 });
    const s3 = createS3Client({ endpoint: s3Server.endpoint });
    await writeFhirDataToS3(data, s3, 's3://cli-crash/in/');
    s3.destroy();
    const args = ['--data-dir', dataDir, '--s3-endpoint', s3Server.endpoint, '--preset', 'fast'];
    try {
      const first = await startCli(args);
      const { DatastoreId } = await first.healthLake.send(
        new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4' }),
      );
      await waitForDatastore(first.healthLake, DatastoreId!);
      const patched = await fetch(`${first.url}/_emulator/settings`, {
        method: 'PATCH',
        body: JSON.stringify({ speed: { resourcesPerSecond: data.counts.resources / 3 } }),
      });
      assert.equal(patched.status, 200);
      const { JobId } = await first.healthLake.send(
        new StartFHIRImportJobCommand({
          DatastoreId,
          InputDataConfig: { S3Uri: 's3://cli-crash/in/' },
          JobOutputDataConfig: { S3Configuration: { S3Uri: 's3://cli-crash/out/', KmsKeyId: 'alias/x' } },
          DataAccessRoleArn: 'arn:aws:iam::123456789012:role/HealthLakeImport',
        }),
      );
      await waitForImportJob(
        first.healthLake,
        DatastoreId!,
        JobId!,
        (job) => (job.JobProgressReport?.TotalNumberOfResourcesScanned ?? 0) > 0,
      );
      first.healthLake.destroy();
      const killed = once(first.child, 'exit');
      first.child.kill('SIGKILL');
      await killed;

      const second = await startCli(args);
      try {
        const job = await waitForImportJob(second.healthLake, DatastoreId!, JobId!);
        assert.equal(job.JobStatus, 'COMPLETED');
        assert.equal(job.JobProgressReport!.TotalNumberOfResourcesImported, data.counts.resources);
        const { jobs } = (await (await fetch(`${second.url}/_emulator/jobs`)).json()) as {
          jobs: JobSummary[];
        };
        assert.deepEqual(
          jobs.map((j) => [j.jobId, j.status, j.restarts]),
          [[JobId, 'COMPLETED', 1]],
        );
      } finally {
        second.healthLake.destroy();
        const exited = once(second.child, 'exit');
        second.child.kill('SIGTERM');
        assert.deepEqual(await exited, [0, null]);
      }
    } finally {
      await s3Server.stop();
    }
  });
});
