// The README's "library in a dozen lines", extracted from README.md as a user would paste it: it
// type-checks as an ES module (`import.mts`) against this repository's packages, runs against a dev
// server and the emulator, prints the import's result and exits by itself when the import ends.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LOCAL_S3_CREDENTIALS } from '../emulator/s3';
import { startImportTestStack, type ImportTestStack, uniqueName } from './helpers/import-env';

const ROOT = resolve(__dirname, '..');
const DIR = join(ROOT, '.local', 'readme-library');

/** The first ```ts block after the "library in a dozen lines" heading. */
export function readmeLibrarySnippet(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## The library in a dozen lines'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  assert.ok(match, 'no ts block in the README section');
  return match[1]!;
}

function writeProject(): void {
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, 'import.mts'), readmeLibrarySnippet());
  // What a new project sees: the package's subpath exports, mapped to this checkout's sources.
  writeFileSync(
    join(DIR, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        lib: ['es2022'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
        allowImportingTsExtensions: true,
        paths: { 'temporal-healthlake/*': ['../../*/index.ts'] },
      },
      files: ['import.mts'],
    }),
  );
}

describe('README library example', () => {
  before(writeProject);

  it('type-checks as pasted (an ES module)', () => {
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', DIR], {
      encoding: 'utf8',
    });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  });

  describe('runs against a dev server and the emulator', () => {
    let stack: ImportTestStack;
    before(async () => {
      stack = await startImportTestStack();
    });
    after(async () => stack?.stop());

    it('prints the result and exits 0 when the import ends', async () => {
      const datastoreId = await stack.newDatastore(uniqueName('readme'));
      const prefix = uniqueName('readme-data');
      const data = await stack.land(prefix, 5);
      const input = stack.input(datastoreId, prefix);
      const child = spawn(process.execPath, ['--import', 'tsx', join(DIR, 'import.mts')], {
        cwd: DIR,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          TSX_TSCONFIG_PATH: join(DIR, 'tsconfig.json'),
          TEMPORAL_ADDRESS: stack.temporal.server!.address,
          HEALTHLAKE_ENDPOINT: stack.local.emulator.url,
          AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
          BATCH_ID: uniqueName('batch'),
          DATASTORE_ID: datastoreId,
          INPUT_S3_URI: input.inputS3Uri,
          OUTPUT_S3_URI: input.outputS3Uri,
          KMS_KEY_ID: input.kmsKeyId,
          DATA_ACCESS_ROLE_ARN: input.dataAccessRoleArn,
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((done) => child.on('exit', done));
      assert.equal(code, 0, stderr);
      const out = stdout.split('\n').filter(Boolean);
      assert.match(out[0]!, /^(NOT_STARTED|SUBMITTED|QUEUED|IN_PROGRESS|COMPLETED)$/);
      assert.match(
        out.at(-1)!,
        new RegExp(`^COMPLETED: ${data.counts.resources} resources imported \\(job [0-9a-f]{32}\\)$`),
      );
    });
  });
});
