// Runs the HealthLake worker pair from environment variables (the deployable entry point; the
// variables and their checks are in config.ts). Every fatal start-up problem (bad variable, server
// unreachable after a bounded retry, missing namespace, unregistered search attributes) is ONE line
// on stderr and a non-zero exit code; SIGINT/SIGTERM at any moment drains and exits within 10 s.
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { setTimeout as sleep } from 'node:timers/promises';
import { importSearchAttributes } from '../workflows/types';
import {
  awsClientsFor,
  readWorkerConfig,
  WorkerConfigError,
  WorkerExitCode,
  type WorkerConfig,
} from './config';
import { createHealthLakeWorker } from './index';

const PREFIX = 'healthlake worker:';
/** Activities get this long to finish after a shutdown signal before they are cancelled. */
const SHUTDOWN_GRACE_MS = 5_000;
/** The worker gives up draining after this long (the SDK's own hard stop). */
const SHUTDOWN_FORCE_MS = 8_000;
/** Last resort: the process exits this long after a signal whatever still holds it open. */
const SIGNAL_EXIT_DEADLINE_MS = 9_500;
/** After `main` has returned and closed what it opened, anything still open gets this long. */
const LINGER_AFTER_EXIT_MS = 2_000;
const CONNECT_RETRY_FIRST_MS = 200;
const CONNECT_RETRY_MAX_MS = 2_000;

/** A start-up problem that ends the process with one line (no stack: the line says it all). */
class WorkerStartupError extends Error {
  override readonly name = 'WorkerStartupError';
}

function line(text: string): void {
  process.stderr.write(`${PREFIX} ${text}\n`);
}

function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}
const GRPC_NOT_FOUND = 5;

/** Connects, retrying while the server is unreachable, until `timeoutMs` passes or `stop` aborts. */
async function connect(config: WorkerConfig, stop: AbortSignal): Promise<NativeConnection | undefined> {
  const deadline = Date.now() + config.connectTimeoutMs;
  let delayMs = CONNECT_RETRY_FIRST_MS;
  for (let attempt = 1; ; attempt++) {
    const pending = NativeConnection.connect({ address: config.address });
    const outcome = await Promise.race([
      pending.then(
        (connection) => ({ connection }),
        (error: unknown) => ({ error }),
      ),
      aborted(stop),
    ]);
    if (outcome === 'aborted') {
      // The connect may still succeed: close it then, so nothing holds the process open.
      void pending.then((late) => late.close()).catch(() => undefined);
      return undefined;
    }
    if ('connection' in outcome) return outcome.connection;
    const reason = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
    if (Date.now() + delayMs >= deadline) {
      throw new WorkerStartupError(
        `Temporal server ${config.address} not reachable after ${attempt} attempts in ` +
          `${config.connectTimeoutMs} ms (TEMPORAL_CONNECT_TIMEOUT_MS): ${reason.split('\n')[0]}`,
      );
    }
    if (attempt === 1) {
      line(
        `Temporal server ${config.address} not reachable (${reason.split('\n')[0]}); retrying for up to ${config.connectTimeoutMs} ms`,
      );
    }
    if ((await Promise.race([sleep(delayMs).then(() => 'slept' as const), aborted(stop)])) === 'aborted') {
      return undefined;
    }
    delayMs = Math.min(delayMs * 2, CONNECT_RETRY_MAX_MS);
  }
}

function aborted(signal: AbortSignal): Promise<'aborted'> {
  if (signal.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
}

/** The namespace must exist, and the import's search attributes must be registered in it. */
async function checkNamespace(connection: NativeConnection, config: WorkerConfig): Promise<void> {
  try {
    await connection.workflowService.describeNamespace({ namespace: config.namespace });
  } catch (err) {
    if (grpcCode(err) === GRPC_NOT_FOUND) {
      throw new WorkerStartupError(
        `namespace "${config.namespace}" does not exist on ${config.address} (TEMPORAL_NAMESPACE; ` +
          `create it: temporal operator namespace create --namespace ${config.namespace})`,
      );
    }
    throw err;
  }
  let registered: Set<string>;
  try {
    const listed = await connection.operatorService.listSearchAttributes({ namespace: config.namespace });
    registered = new Set(Object.keys(listed.customAttributes ?? {}));
  } catch {
    // Some servers (Temporal Cloud with a namespace API key) do not answer this: skip the check.
    return;
  }
  const missing = Object.keys(importSearchAttributes).filter((name) => !registered.has(name));
  if (missing.length > 0) {
    const create = missing
      .map(
        (name) =>
          `--name ${name} --type ${importSearchAttributes[name as keyof typeof importSearchAttributes]}`,
      )
      .join(' ');
    throw new WorkerStartupError(
      `search attributes ${missing.join(', ')} are not registered in namespace "${config.namespace}" ` +
        `(temporal operator search-attribute create --namespace ${config.namespace} ${create})`,
    );
  }
}

async function main(stop: AbortSignal): Promise<WorkerExitCode> {
  let config: WorkerConfig;
  try {
    config = readWorkerConfig(process.env);
  } catch (err) {
    if (!(err instanceof WorkerConfigError)) throw err;
    line(err.message);
    return WorkerExitCode.BadConfig;
  }
  const connection = await connect(config, stop);
  if (connection === undefined) return WorkerExitCode.Stopped;
  try {
    await checkNamespace(connection, config);
    if (stop.aborted) return WorkerExitCode.Stopped;
    const { healthLakeConfig, s3 } = awsClientsFor(config);
    const worker = await createHealthLakeWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      ...(config.apiTaskQueue === undefined ? {} : { apiTaskQueue: config.apiTaskQueue }),
      apiActivitiesPerSecond: config.apiActivitiesPerSecond,
      apiTaskQueueUnpolledFailAfterMs: config.apiTaskQueueUnpolledFailAfterMs,
      healthLakeConfig,
      s3,
      workerOptions: { shutdownGraceTime: SHUTDOWN_GRACE_MS, shutdownForceTime: SHUTDOWN_FORCE_MS },
    });
    // Started even when a signal came during the build, so the native workers are released cleanly.
    const running = worker.runUntil(aborted(stop));
    // One line a supervisor (or a test) can wait for; no credentials, only where we listen. Its
    // start, "healthlake worker ready:", is unchanged since the first release (scripts match it).
    process.stderr.write(
      `healthlake worker ready: ${config.address} namespace ${config.namespace} task queues ${worker.taskQueue}, ${worker.apiTaskQueue}` +
        (config.healthLakeEndpoint
          ? ` HealthLake endpoint ${config.healthLakeEndpoint}`
          : ` HealthLake ${config.region}`) +
        '\n',
    );
    await running;
    return WorkerExitCode.Stopped;
  } finally {
    await connection.close();
  }
}

function run(): void {
  // Signals are ours: the Runtime's default handler would swallow them while nothing is running yet.
  Runtime.install({
    logger: new DefaultLogger((process.env.TEMPORAL_LOG_LEVEL as LogLevel | undefined) ?? 'WARN'),
    shutdownSignals: [],
  });
  const stop = new AbortController();
  let exitCode: number = WorkerExitCode.Stopped;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) return;
    line(`${signal}: draining, exiting within ${Math.round(SIGNAL_EXIT_DEADLINE_MS / 1000)} s`);
    stop.abort();
    setTimeout(() => {
      line(`still running ${SIGNAL_EXIT_DEADLINE_MS} ms after ${signal}; exiting`);
      process.exit(exitCode);
    }, SIGNAL_EXIT_DEADLINE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  void main(stop.signal)
    .catch((err: unknown) => {
      line(
        err instanceof WorkerStartupError
          ? err.message
          : `fatal: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`,
      );
      return WorkerExitCode.Fatal;
    })
    .then((code) => {
      exitCode = code;
      process.exitCode = code;
      // Everything we opened is closed; if a stray handle (a bundler, a late native call) still holds
      // the event loop, do not let it keep a dead worker alive.
      setTimeout(() => process.exit(code), LINGER_AFTER_EXIT_MS).unref();
    });
}

run();
