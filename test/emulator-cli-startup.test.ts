// `temporal-healthlake emulator` start-up failures, on real processes: a corrupt state file, a busy
// port, a bad flag each exit 2 with one line naming the problem, and the moto server the CLI
// started is gone afterwards, whichever way the CLI ends (failure, SIGTERM while starting or
// running). Processes are found through a marker in their environment, which moto inherits.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startS3Server } from '../emulator/s3-server';
import { spawnCli, type CliExit, type CliProcess } from './helpers/cli-process';
import { waitFor } from './helpers/wait-for';

const MARKER_VAR = 'THL_CLI_STARTUP_TEST_MARKER';
/** Generous for a loaded 2-core machine; the failures themselves take about a second. */
const EXIT_WITHIN_MS = 30_000;

const markers: string[] = [];

/** Pids of live (not zombie) processes whose environment carries `marker`. */
function liveProcessesWith(marker: string): number[] {
  const needle = `${MARKER_VAR}=${marker}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (!environ.split('\0').includes(needle)) continue;
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.charAt(0);
      if (state !== 'Z' && state !== 'X') pids.push(Number(entry));
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return pids;
}

/** The moto server among them (tsx's esbuild service carries the marker too). */
const motoProcessesWith = (marker: string): number[] =>
  liveProcessesWith(marker).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('moto_server');
    } catch {
      return false;
    }
  });

interface EmulatorCli extends Omit<CliProcess, 'exited'> {
  /** Resolves when the process exits (or is killed after EXIT_WITHIN_MS). */
  readonly exited: Promise<CliExit & { elapsedMs: number }>;
  readonly marker: string;
}

function startCli(args: string[], env: Record<string, string> = {}): EmulatorCli {
  const marker = randomUUID();
  markers.push(marker);
  const startedAt = Date.now();
  const cli = spawnCli(['emulator', ...args], {
    // The SDK's Node-version notice is not ours; without it stderr is exactly what the CLI says.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', [MARKER_VAR]: marker, ...env },
    killAfterMs: EXIT_WITHIN_MS,
  });
  return {
    ...cli,
    exited: cli.exited.then((exit) => ({ ...exit, elapsedMs: Date.now() - startedAt })),
    marker,
  };
}

const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');

function occupyPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolvePort({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

after(() => {
  // A failing test must not leak a moto server into the rest of the run.
  for (const marker of markers) for (const pid of liveProcessesWith(marker)) process.kill(pid, 'SIGKILL');
});

describe('temporal-healthlake emulator start-up failures', () => {
  it('exits 2 naming a corrupt state.json (and the JSON problem), leaves the file alone and stops its moto', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'thl-corrupt-'));
    const statePath = join(dataDir, 'state.json');
    const corrupt = '{"version":1,';
    writeFileSync(statePath, corrupt);
    let parseMessage = '';
    try {
      JSON.parse(corrupt);
    } catch (err) {
      parseMessage = (err as Error).message;
    }

    const cli = startCli(['--port', '0', '--data-dir', dataDir]);
    const { code, signal } = await cli.exited;

    assert.deepEqual({ code, signal }, { code: 2, signal: null });
    assert.deepEqual(lines(cli.stderr()), [
      `emulator: state file ${statePath} is not valid JSON (${parseMessage}); move it away or fix it`,
    ]);
    assert.equal(cli.stdout(), '');
    assert.equal(readFileSync(statePath, 'utf8'), corrupt);
    assert.deepEqual(liveProcessesWith(cli.marker), []);
  });

  it('exits 2 within seconds on a busy --port, naming the port, with no moto left running', async () => {
    const { server, port } = await occupyPort();
    try {
      const cli = startCli(['--port', String(port)]);
      const { code, signal, elapsedMs } = await cli.exited;

      assert.deepEqual({ code, signal }, { code: 2, signal: null }, `stderr: ${cli.stderr()}`);
      assert.deepEqual(lines(cli.stderr()), [
        `emulator: port ${port} on 127.0.0.1 is already in use (EADDRINUSE); choose another port, or 0 for a free one`,
      ]);
      assert.ok(elapsedMs < EXIT_WITHIN_MS, `took ${elapsedMs} ms`);
      assert.deepEqual(liveProcessesWith(cli.marker), []);
    } finally {
      server.close();
    }
  });

  it('stops the moto it is starting when SIGTERM arrives during start-up, and exits 0', async () => {
    const cli = startCli(['--port', '0']);
    // moto is spawned at once but needs a second or more before it answers: signal in between.
    const moto = await waitFor(
      () => motoProcessesWith(cli.marker),
      (pids) => pids.length > 0,
      'moto started by the CLI',
      { limitMs: EXIT_WITHIN_MS, stepMs: 20 },
    );
    assert.equal(moto.length, 1);
    cli.kill('SIGTERM');
    const { code, signal } = await cli.exited;

    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `stderr: ${cli.stderr()}`);
    assert.equal(cli.stdout(), 'SIGTERM during start-up: stopping\n');
    assert.equal(cli.stderr(), '');
    assert.deepEqual(liveProcessesWith(cli.marker), []);
  });

  it('stops its moto on SIGTERM while serving', async () => {
    const cli = startCli(['--port', '0', '--preset', 'fast']);
    await waitFor(
      () => cli.stdout(),
      (out) => out.includes('control API:'),
      'the CLI serving',
      {
        limitMs: EXIT_WITHIN_MS,
      },
    );
    assert.equal(motoProcessesWith(cli.marker).length, 1);
    cli.kill('SIGTERM');
    const { code, signal } = await cli.exited;

    assert.deepEqual({ code, signal }, { code: 0, signal: null });
    assert.match(cli.stdout(), /\nSIGTERM: stopping\n$/);
    assert.deepEqual(liveProcessesWith(cli.marker), []);
  });

  const dataDirWithResourcesFile = mkdtempSync(join(tmpdir(), 'thl-resources-'));
  writeFileSync(join(dataDirWithResourcesFile, 'resources'), '');
  const usageErrors: [string, string[], string][] = [
    [
      '--s3-endpoint that is not a URL',
      ['--s3-endpoint', 'not-a-url'],
      'emulator: --s3-endpoint "not-a-url" must be an http(s) URL, e.g. http://127.0.0.1:4566',
    ],
    [
      '--s3-endpoint with another scheme',
      ['--s3-endpoint', 's3://bucket'],
      'emulator: --s3-endpoint "s3://bucket" must be an http(s) URL, e.g. http://127.0.0.1:4566',
    ],
    [
      '--data-dir that is a file',
      ['--data-dir', __filename, '--s3-endpoint', 'http://127.0.0.1:9'],
      `emulator: data directory ${__filename} cannot be created or written (EEXIST: file already exists); pass a writable --data-dir`,
    ],
    [
      '--data-dir whose resources/ is a file',
      ['--data-dir', dataDirWithResourcesFile, '--s3-endpoint', 'http://127.0.0.1:9'],
      `emulator: data directory ${dataDirWithResourcesFile} has an unreadable resources/ folder (EEXIST: file already exists); pass a writable --data-dir`,
    ],
    [
      '--port that is not a number',
      ['--port', 'http'],
      'emulator: --port "http" must be an integer in 0..65535 (see --help)',
    ],
    ['an unknown flag', ['--nope'], "error: unknown option '--nope' (see --help)"],
  ];
  for (const [name, args, line] of usageErrors) {
    it(`exits 2 with one line for ${name}`, async () => {
      const cli = startCli(args);
      const { code } = await cli.exited;
      assert.equal(code, 2);
      const [first, ...rest] = lines(cli.stderr());
      assert.equal(first, line);
      // One line: nothing follows (the usage is in --help).
      assert.deepEqual(rest, []);
      assert.deepEqual(liveProcessesWith(cli.marker), []);
    });
  }
});

describe('startS3Server({ signal })', () => {
  it('kills the half-started moto and rejects with the reason when aborted during start-up', async () => {
    const marker = randomUUID();
    markers.push(marker);
    const controller = new AbortController();
    // moto inherits the environment when it is spawned, after an await inside startS3Server.
    process.env[MARKER_VAR] = marker;
    const starting = startS3Server({ signal: controller.signal });
    try {
      await waitFor(
        () => motoProcessesWith(marker),
        (pids) => pids.length === 1,
        'moto spawned',
        { limitMs: EXIT_WITHIN_MS, stepMs: 20 },
      );
    } catch (err) {
      controller.abort(err);
      await starting.catch(() => undefined);
      throw err;
    } finally {
      delete process.env[MARKER_VAR];
    }
    const reason = new Error('stop now');
    controller.abort(reason);
    await assert.rejects(starting, (err: unknown) => err === reason);
    assert.deepEqual(liveProcessesWith(marker), []);
  });
});
