// Starts a real Temporal dev server (the official `temporal server start-dev`) for tests, the
// demo and the benchmark, and waits for it with a start-up timeout a slow CI machine survives.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { resolveTool, TEMPORAL_CLI, type ResolveToolOptions, ToolNotFoundError } from './local-tools';

/** Search attribute types as `temporal server start-dev --search-attribute Name=Type` spells them. */
export type DevServerSearchAttributeType =
  'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export interface TemporalDevServerOptions {
  /** gRPC port. @default a free port */
  readonly port?: number;
  /** Serve the Web UI. @default false */
  readonly ui?: boolean;
  /** Web UI port when `ui` is set. @default port + 1000 */
  readonly uiPort?: number;
  /** SQLite file for state that survives restarts. @default in-memory */
  readonly dbFilename?: string;
  /** @default 'default' */
  readonly namespace?: string;
  /** Custom search attributes to register at start. @default {} */
  readonly searchAttributes?: Readonly<Record<string, DevServerSearchAttributeType>>;
  /** How long to wait for the server to answer before giving up, in ms. @default 60_000 */
  readonly startupTimeoutMs?: number;
  /** How to find or install the CLI. */
  readonly tool?: ResolveToolOptions;
  /** Extra `--dynamic-config-value K=JSON` settings. @default {} */
  readonly dynamicConfig?: Readonly<Record<string, unknown>>;
  /**
   * Task-queue fairness (`matching.enableFairness=true`), so the imports' `priority.fairnessKey`
   * (one per data store by default) shares the API queue round-robin. @default false
   */
  readonly fairness?: boolean;
}

export interface TemporalDevServer {
  /** `127.0.0.1:<port>`, for `Connection.connect` / `NativeConnection.connect`. */
  readonly address: string;
  readonly namespace: string;
  /** Web UI base URL, when started with `ui: true`. */
  readonly uiUrl?: string;
  /** Where the CLI binary came from (env, PATH, tools folder, fresh pip install). */
  readonly binarySource: string;
  /** Stops the server: SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const POLL_INTERVAL_MS = 200;

async function waitUntilServing(
  address: string,
  child: ChildProcess,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`temporal dev server exited with code ${child.exitCode} before serving: ${stderr()}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
    }
  }
  throw new Error(
    `temporal dev server at ${address} did not answer within ${timeoutMs} ms: ${String(lastError)}`,
  );
}

/** Grace period between SIGTERM and SIGKILL when stopping a local server, in ms. */
const KILL_AFTER_MS = 5_000;

/** Stops a local server process: SIGTERM, then SIGKILL after {@link KILL_AFTER_MS}. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Starts `temporal server start-dev` on 127.0.0.1 and resolves once it answers gRPC.
 *
 * We spawn the CLI ourselves rather than through `TestWorkflowEnvironment.createLocal`, whose
 * core waits only about 5 s for the server: too short for a cold, loaded CI machine.
 */
export async function startTemporalDevServer(
  options: TemporalDevServerOptions = {},
): Promise<TemporalDevServer> {
  const cli = resolveTool(TEMPORAL_CLI, options.tool);
  const port = options.port ?? (await freePort());
  const namespace = options.namespace ?? 'default';
  const uiPort = options.ui ? (options.uiPort ?? port + 1000) : undefined;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--namespace',
    namespace,
    '--log-level',
    'error',
  ];
  if (uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-ip', '127.0.0.1');
  if (options.dbFilename) args.push('--db-filename', options.dbFilename);
  for (const [name, type] of Object.entries(options.searchAttributes ?? {})) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  const dynamicConfig = {
    ...(options.fairness ? { 'matching.enableFairness': true } : {}),
    ...options.dynamicConfig,
  };
  for (const [key, value] of Object.entries(dynamicConfig)) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  const child = spawn(cli.path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const address = `127.0.0.1:${port}`;
  try {
    await waitUntilServing(address, child, options.startupTimeoutMs ?? 60_000, () => stderr);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    address,
    namespace,
    uiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
    binarySource: `${cli.source}: ${cli.path}`,
    stop: () => stopChild(child),
  };
}

export interface LocalTestEnv {
  readonly env: TestWorkflowEnvironment;
  readonly server?: TemporalDevServer;
  teardown(): Promise<void>;
}

/**
 * A `TestWorkflowEnvironment` on a real dev server. Uses the resolved official CLI; only when
 * no route finds or installs it does it fall back to the SDK's own download (which needs internet).
 */
export async function createLocalTestEnv(
  options: TemporalDevServerOptions & { allowSdkDownload?: boolean } = {},
): Promise<LocalTestEnv> {
  let server: TemporalDevServer;
  try {
    server = await startTemporalDevServer(options);
  } catch (err) {
    if (!(err instanceof ToolNotFoundError) || options.allowSdkDownload === false) throw err;
    try {
      const env = await TestWorkflowEnvironment.createLocal({
        server: { searchAttributes: [], ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}) },
      });
      return { env, teardown: () => env.teardown() };
    } catch (downloadErr) {
      throw new Error(`${err.message}\n  - sdk-download: failed: ${String(downloadErr)}`, {
        cause: downloadErr,
      });
    }
  }
  const env = await TestWorkflowEnvironment.createFromExistingServer({
    address: server.address,
    namespace: server.namespace,
  });
  return {
    env,
    server,
    teardown: async () => {
      await env.teardown();
      await server.stop();
    },
  };
}
