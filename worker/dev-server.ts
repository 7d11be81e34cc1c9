// Starts a real Temporal dev server (the official `temporal server start-dev`) for tests, the
// demo and the benchmark, and waits for it with a start-up timeout a slow CI machine survives.
import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  freePort,
  resolveTool,
  stopChild,
  ToolNotFoundError,
  type ResolveToolOptions,
} from 'healthlake-emulator/testing';
import { TEMPORAL_CLI } from './local-tools';

export { freePort, stopChild };

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

const POLL_INTERVAL_MS = 200;
/** How much of the server's stderr an error keeps, from its start and from its end. */
const STDERR_KEPT_CHARS = 2_000;

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
      throw new DevServerExitedError(
        `temporal dev server exited with code ${child.exitCode} before serving: ${stderr()}`,
      );
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

/**
 * Starts `temporal server start-dev` on 127.0.0.1 and resolves once it answers gRPC.
 *
 * We spawn the CLI ourselves rather than through `TestWorkflowEnvironment.createLocal`, whose
 * core waits only about 5 s for the server: too short for a cold, loaded CI machine.
 */
export async function startTemporalDevServer(
  options: TemporalDevServerOptions = {},
): Promise<TemporalDevServer> {
  // A server that dies before serving on a port we picked ourselves (another process took that
  // port, or one of the ports the server picks for its internal services, between our check and
  // its bind) is started again on fresh ports; a port the caller chose is tried once.
  const attempts = options.port === undefined ? DEV_SERVER_START_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServerOnce(options, options.port ?? (await freePort()));
    } catch (err) {
      if (!(err instanceof DevServerExitedError) || attempt >= attempts) throw err;
    }
  }
}

/** Tries of {@link startTemporalDevServer} on fresh ports when the server exits before serving. */
const DEV_SERVER_START_ATTEMPTS = 3;

/** The dev server process ended before it answered gRPC. */
class DevServerExitedError extends Error {
  override readonly name = 'DevServerExitedError';
}

async function startDevServerOnce(
  options: TemporalDevServerOptions,
  port: number,
): Promise<TemporalDevServer> {
  const cli = resolveTool(TEMPORAL_CLI, options.tool);
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
  // The head keeps a Go panic's cause, the tail its last words.
  let stderrHead = '';
  let stderrTail = '';
  let stderrChars = 0;
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    stderrChars += text.length;
    if (stderrHead.length < STDERR_KEPT_CHARS)
      stderrHead += text.slice(0, STDERR_KEPT_CHARS - stderrHead.length);
    stderrTail = (stderrTail + text).slice(-STDERR_KEPT_CHARS);
  });
  const stderr = (): string =>
    stderrChars <= STDERR_KEPT_CHARS ? stderrHead : `${stderrHead}\n...\n${stderrTail}`;
  const address = `127.0.0.1:${port}`;
  try {
    await waitUntilServing(address, child, options.startupTimeoutMs ?? 60_000, stderr);
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
