// Starts a real S3-compatible server (moto's server mode, installed from PyPI into .tools/moto)
// on 127.0.0.1 for tests, the demo and the benchmark, and waits until it answers S3 requests.
import { spawn, type ChildProcess } from 'node:child_process';
import { delimiter } from 'node:path';
import { freePort, MOTO_SERVER, resolveTool, stopChild, type ResolveToolOptions } from './tools';

export interface S3ServerOptions {
  /** TCP port on 127.0.0.1. @default a free port */
  readonly port?: number;
  /** How long to wait for the server to answer before giving up, in ms. @default 60_000 */
  readonly startupTimeoutMs?: number;
  /** How to find or install moto. @default resolveTool's defaults (.tools/moto, pip from PyPI) */
  readonly tool?: ResolveToolOptions;
  /**
   * Aborts start-up: the server gets SIGKILL at once and the promise rejects with the signal's
   * reason (a CLI passes one tied to SIGINT/SIGTERM so no moto outlives it). @default none
   */
  readonly signal?: AbortSignal;
}

export interface S3ServerHandle {
  /** `http://127.0.0.1:<port>`: pass it to `createS3Client({ endpoint })`. */
  readonly endpoint: string;
  /** Where the moto binary came from (env, tools folder, fresh pip install). */
  readonly binarySource: string;
  /** The moto process id. */
  readonly pid: number;
  /** Sends SIGKILL now, synchronously: for `process.on('exit')`, where nothing async runs. */
  killNow(): void;
  /** Stops the server: SIGTERM, then SIGKILL after 5 s. Resolves once the process has exited. */
  stop(): Promise<void>;
}

/** Thrown when the server exits or stays silent during start-up. */
export class S3ServerStartError extends Error {
  override readonly name = 'S3ServerStartError';
  constructor(
    readonly endpoint: string,
    readonly reason: string,
  ) {
    super(`S3 server (moto) at ${endpoint} did not start: ${reason}`);
  }
}

const POLL_INTERVAL_MS = 100;
const PROBE_TIMEOUT_MS = 2_000;
const STDERR_TAIL_CHARS = 4_000;

async function waitUntilServing(
  endpoint: string,
  child: ChildProcess,
  timeoutMs: number,
  stderr: () => string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    if (child.exitCode !== null || child.pid === undefined) {
      throw new S3ServerStartError(endpoint, `exited with code ${child.exitCode}: ${stderr()}`);
    }
    try {
      // ListBuckets: answers only once moto's S3 backend is loaded, not just the socket.
      const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
      const response = await fetch(`${endpoint}/`, {
        signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
      });
      await response.arrayBuffer();
      if (response.ok) return;
      lastError = `HTTP ${response.status}`;
    } catch (err) {
      signal?.throwIfAborted();
      lastError = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
  throw new S3ServerStartError(endpoint, `no answer within ${timeoutMs} ms (${lastError})`);
}

/**
 * Starts moto's S3-compatible server on 127.0.0.1 and resolves once it answers `ListBuckets`.
 * State lives in the server's memory and is gone after `stop()`.
 *
 * moto is installed with `pip --target`, so its `moto_server` script (whose shebang names the
 * interpreter pip ran under) needs the install folder on `PYTHONPATH` to import moto.
 *
 * @example
 * const s3Server = await startS3Server();
 * const s3 = createS3Client({ endpoint: s3Server.endpoint });
 * // ...
 * await s3Server.stop();
 */
export async function startS3Server(options: S3ServerOptions = {}): Promise<S3ServerHandle> {
  const moto = resolveTool(MOTO_SERVER, options.tool);
  const port = options.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const pythonPath = [moto.pythonPath, process.env.PYTHONPATH].filter(Boolean).join(delimiter);
  const child = spawn(moto.path, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...(pythonPath ? { PYTHONPATH: pythonPath } : {}), PYTHONUNBUFFERED: '1' },
  });
  let stderr = '';
  child.on('error', (err) => {
    stderr += `\n${err.message}`;
  });
  // moto logs one access line per request on stderr; keep only the tail for start-up errors.
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS);
  });
  // On abort, kill at once and synchronously: a half-started moto holds nothing worth a graceful
  // stop, and the caller may be about to exit (a second Ctrl-C) before an async stop could run.
  const killOnAbort = (): void => {
    child.kill('SIGKILL');
  };
  options.signal?.addEventListener('abort', killOnAbort, { once: true });
  try {
    options.signal?.throwIfAborted();
    await waitUntilServing(endpoint, child, options.startupTimeoutMs ?? 60_000, () => stderr, options.signal);
  } catch (err) {
    await stopChild(child);
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', killOnAbort);
  }
  return {
    endpoint,
    binarySource: `${moto.source}: ${moto.path}`,
    pid: child.pid!,
    killNow: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    stop: () => stopChild(child),
  };
}
