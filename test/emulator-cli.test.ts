// `temporal-healthlake emulator` as a user runs it: it starts moto itself, prints the URL it
// listens on (127.0.0.1 only), answers the real SDK, and stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import {
  CreateFHIRDatastoreCommand,
  HealthLakeClient,
  ListFHIRDatastoresCommand,
} from '@aws-sdk/client-healthlake';

const MAIN = resolve(__dirname, '..', 'cli', 'main.ts');

describe('temporal-healthlake emulator', () => {
  it('prints its 127.0.0.1 URL, serves the SDK, keeps state in --data-dir and exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'thl-cli-'));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'emulator', '--port', '0', '--data-dir', dataDir, '--preset', 'fast'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = (await lines.next()).value as string;
    const match = /^HealthLake emulator listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(first);
    assert.ok(match, `unexpected first line: ${first}`);
    assert.match(
      (await lines.next()).value as string,
      /^S3 endpoint: http:\/\/127\.0\.0\.1:\d+ \(moto, started by the emulator\)$/,
    );

    const healthLake = new HealthLakeClient({
      endpoint: match[1],
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
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

  it('rejects a bad flag with exit code 2 and the usage', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'emulator', '--preset', 'slow'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2);
    assert.match(stderr, /--preset "slow" must be one of aws, fast\nusage: temporal-healthlake emulator/);
  });
});
