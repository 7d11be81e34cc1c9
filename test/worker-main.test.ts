// worker/main.ts as a deployment runs it: a child process against a real dev server. Fatal start-up
// errors exit non-zero with one line; SIGTERM during start-up or while running exits within 10 s.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { freePort, startTemporalDevServer, type TemporalDevServer } from '../worker/dev-server';
import { importSearchAttributes } from '../workflows/types';
import { uniqueName } from './helpers/import-env';

const MAIN = require.resolve('../worker/main.ts');
/** What the issue asks: a missing namespace ends the process within 30 s, a signal within 10 s. */
const FATAL_EXIT_LIMIT_MS = 30_000;
const SIGNAL_EXIT_LIMIT_MS = 10_000;
/** Loading tsx and the SDK on a loaded 2-core machine; a hang guard, not a timing assertion. */
const START_LIMIT_MS = 120_000;

let server: TemporalDevServer;

before(async () => {
  // No search attributes at first: the first tests need them missing.
  server = await startTemporalDevServer();
});
after(async () => {
  await server?.stop();
});

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** From spawn (or from `sinceMs`) to exit, in ms. */
  readonly elapsedMs: number;
}

class WorkerProcess {
  readonly child: ChildProcess;
  stderr = '';
  private readonly exited: Promise<Omit<Exit, 'elapsedMs'>>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      // NODE_NO_WARNINGS: the AWS SDK's Node-version notice is the machine's, not the worker's output.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_NO_WARNINGS: '1', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => resolve({ code, signal, stderr: this.stderr })),
    );
  }

  /** Waits for a stderr line starting with `prefix`. */
  async line(prefix: string, limitMs = START_LIMIT_MS): Promise<string> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const found = this.stderr.split('\n').find((l) => l.startsWith(prefix));
      if (found) return found;
      if (this.child.exitCode !== null)
        throw new Error(`exited ${this.child.exitCode} before "${prefix}": ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no "${prefix}" line within ${limitMs} ms: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for the exit (killing the child after `limitMs` so a hang fails the test, not the run). */
  async exit(limitMs: number, sinceMs = performance.now()): Promise<Exit> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), limitMs);
    try {
      const exit = await this.exited;
      return { ...exit, elapsedMs: performance.now() - sinceMs };
    } finally {
      clearTimeout(timer);
    }
  }
}

function lines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '');
}

describe('worker/main.ts', () => {
  it('a bad configuration value: exit 2, one line naming the variable, value and rule', async () => {
    const worker = new WorkerProcess({ TEMPORAL_ADDRESS: server.address, HEALTHLAKE_ENDPOINT: 'not-a-url' });
    const exit = await worker.exit(START_LIMIT_MS);
    assert.equal(exit.code, 2, exit.stderr);
    assert.deepEqual(lines(exit.stderr), [
      'healthlake worker: HEALTHLAKE_ENDPOINT "not-a-url" must be an http(s) URL, e.g. http://127.0.0.1:4566',
    ]);
  });

  it('a namespace that does not exist: exit 1 within 30 s, one line', async () => {
    const namespace = uniqueName('missing-ns');
    const startedAt = performance.now();
    const worker = new WorkerProcess({ TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: namespace });
    const exit = await worker.exit(FATAL_EXIT_LIMIT_MS + 5_000, startedAt);
    assert.equal(exit.code, 1, exit.stderr);
    assert.deepEqual(lines(exit.stderr), [
      `healthlake worker: namespace "${namespace}" does not exist on ${server.address} (TEMPORAL_NAMESPACE; ` +
        `create it: temporal operator namespace create --namespace ${namespace})`,
    ]);
    assert.ok(exit.elapsedMs < FATAL_EXIT_LIMIT_MS, `exited after ${exit.elapsedMs.toFixed(0)} ms`);
  });

  it('unregistered search attributes: exit 1, one line with the command that registers them', async () => {
    const worker = new WorkerProcess({ TEMPORAL_ADDRESS: server.address });
    const exit = await worker.exit(FATAL_EXIT_LIMIT_MS + 5_000);
    assert.equal(exit.code, 1, exit.stderr);
    assert.deepEqual(lines(exit.stderr), [
      'healthlake worker: search attributes HealthLakeDatastoreId, HealthLakeJobId, HealthLakeJobStatus are not ' +
        'registered in namespace "default" (temporal operator search-attribute create --namespace default ' +
        '--name HealthLakeDatastoreId --type Keyword --name HealthLakeJobId --type Keyword ' +
        '--name HealthLakeJobStatus --type Keyword)',
    ]);
  });

  it('an unreachable server: exit 1 after the bounded retry, naming the address', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const worker = new WorkerProcess({ TEMPORAL_ADDRESS: address, TEMPORAL_CONNECT_TIMEOUT_MS: '1000' });
    const exit = await worker.exit(START_LIMIT_MS);
    assert.equal(exit.code, 1, exit.stderr);
    const output = lines(exit.stderr);
    assert.equal(output.length, 2, exit.stderr);
    assert.match(
      output[0]!,
      new RegExp(
        `^healthlake worker: Temporal server ${address} not reachable \\(.+\\); retrying for up to 1000 ms$`,
      ),
    );
    assert.match(
      output[1]!,
      new RegExp(
        `^healthlake worker: Temporal server ${address} not reachable after \\d+ attempts in 1000 ms \\(TEMPORAL_CONNECT_TIMEOUT_MS\\): `,
      ),
    );
  });

  it('SIGTERM during start-up (server not reachable yet): exit 0 within 10 s', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const worker = new WorkerProcess({ TEMPORAL_ADDRESS: address, TEMPORAL_CONNECT_TIMEOUT_MS: '600000' });
    await worker.line(`healthlake worker: Temporal server ${address} not reachable`);
    const signalledAt = performance.now();
    worker.child.kill('SIGTERM');
    const exit = await worker.exit(SIGNAL_EXIT_LIMIT_MS + 5_000, signalledAt);
    assert.equal(exit.code, 0, exit.stderr);
    assert.equal(exit.signal, null);
    assert.ok(exit.elapsedMs < SIGNAL_EXIT_LIMIT_MS, `exited ${exit.elapsedMs.toFixed(0)} ms after SIGTERM`);
    assert.equal(lines(exit.stderr).at(-1), 'healthlake worker: SIGTERM: draining, exiting within 10 s');
  });

  it('SIGTERM while running: drains and exits 0 within 10 s', async () => {
    const connection = await Connection.connect({ address: server.address });
    try {
      await connection.operatorService.addSearchAttributes({
        namespace: 'default',
        searchAttributes: Object.fromEntries(
          Object.keys(importSearchAttributes).map((name) => [
            name,
            temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
          ]),
        ),
      });
    } finally {
      await connection.close();
    }
    const taskQueue = uniqueName('main');
    const worker = new WorkerProcess({ TEMPORAL_ADDRESS: server.address, TEMPORAL_TASK_QUEUE: taskQueue });
    const ready = await worker.line('healthlake worker ready:');
    assert.equal(
      ready,
      `healthlake worker ready: ${server.address} namespace default task queues ${taskQueue}, ` +
        `${taskQueue}-healthlake-api HealthLake us-east-1`,
    );
    const signalledAt = performance.now();
    worker.child.kill('SIGTERM');
    const exit = await worker.exit(SIGNAL_EXIT_LIMIT_MS + 5_000, signalledAt);
    assert.equal(exit.code, 0, exit.stderr);
    assert.equal(exit.signal, null);
    assert.ok(exit.elapsedMs < SIGNAL_EXIT_LIMIT_MS, `exited ${exit.elapsedMs.toFixed(0)} ms after SIGTERM`);
    // Nothing else: the SDK's WARN that the API worker has no workflows to poll for is expected
    // (worker/logging.ts logs it at DEBUG).
    assert.deepEqual(lines(exit.stderr), [
      ready,
      'healthlake worker: SIGTERM: draining, exiting within 10 s',
    ]);
  });
});
