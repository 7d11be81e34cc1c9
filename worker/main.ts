// Runs the HealthLake worker pair from environment variables (the deployable entry point; the
// variables and their checks are in config.ts; `runWorkerMain` is the same thing as a function). Every fatal start-up problem (bad variable, server
// unreachable after a bounded retry, missing namespace, unregistered search attributes) is ONE line
// on stderr and a non-zero exit code; SIGINT/SIGTERM at any moment drains and exits within 10 s.
import { NativeConnection, Runtime } from '@temporalio/worker';
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
import { WorkerLogger } from './logging';
import { watchImportsWaiting } from './metrics';
import { tracingFromEnv, type TracingFromEnv } from './tracing';

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

/**
 * A TLS failure (unknown CA, wrong host name, a certificate the server refuses) is configuration:
 * retrying cannot fix it, so it ends the start at once instead of after the connect timeout.
 */
const TLS_FAILURE = /certificate|UnknownIssuer|NotValidForName|handshake|tls|ssl|alert/i;

/** Connects, retrying while the server is unreachable, until `timeoutMs` passes or `stop` aborts. */
async function connect(config: WorkerConfig, stop: AbortSignal): Promise<NativeConnection | undefined> {
  const deadline = Date.now() + config.connectTimeoutMs;
  let delayMs = CONNECT_RETRY_FIRST_MS;
  const { tls, apiKey, metadata } = config.connection;
  for (let attempt = 1; ; attempt++) {
    const pending = NativeConnection.connect({
      address: config.address,
      ...(tls === undefined ? {} : { tls }),
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(metadata === undefined ? {} : { metadata }),
    });
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
    if (tls !== undefined && tls !== false && TLS_FAILURE.test(reason)) {
      throw new WorkerStartupError(
        `TLS connection to ${config.address} failed (check TEMPORAL_TLS_SERVER_CA_CERT_PATH, ` +
          `TEMPORAL_TLS_SERVER_NAME and the client certificate): ${oneLine(reason)}`,
      );
    }
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

/** The last line of a multi-line error (core's chain ends with the root cause), trimmed. */
function oneLine(reason: string): string {
  return reason.replace(/\s+/g, ' ').trim().slice(0, 500);
}

/** One promise (and one listener) per signal: the connect loop races it on every attempt. */
const abortedPromises = new WeakMap<AbortSignal, Promise<'aborted'>>();
function aborted(signal: AbortSignal): Promise<'aborted'> {
  let promise = abortedPromises.get(signal);
  if (promise === undefined) {
    promise = signal.aborted
      ? Promise.resolve('aborted')
      : new Promise((resolve) => signal.addEventListener('abort', () => resolve('aborted'), { once: true }));
    abortedPromises.set(signal, promise);
  }
  return promise;
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

/**
 * Runs the worker pair configured by `env` until `signal` aborts; resolves to the exit code
 * ({@link WorkerExitCode}). Fatal problems are one line on stderr. Without `signal`, SIGINT and
 * SIGTERM stop it (and a still-running process exits 9.5 s after the signal).
 *
 * Installs the Temporal `Runtime` (logger, Prometheus endpoint): call it once per process, before
 * anything else creates a connection.
 *
 * @example
 * process.exitCode = await runWorkerMain(process.env);
 */
export async function runWorkerMain(env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<number> {
  let config: WorkerConfig;
  try {
    config = readWorkerConfig(env);
  } catch (err) {
    line(err instanceof WorkerConfigError ? err.message : `fatal: ${oneLine(String(err))}`);
    return err instanceof WorkerConfigError ? WorkerExitCode.BadConfig : WorkerExitCode.Fatal;
  }
  let tracing: TracingFromEnv | undefined;
  try {
    tracing = await tracingFromEnv(env);
  } catch (err) {
    line(err instanceof Error ? err.message : String(err));
    return WorkerExitCode.BadConfig;
  }
  const stop = signal ?? stopOnSignals();
  try {
    installRuntime(config, env);
    return await serve(config, stop, tracing);
  } catch (err) {
    line(
      err instanceof WorkerStartupError
        ? err.message
        : `fatal: ${oneLine((err instanceof Error ? err.message : String(err)).split('\n')[0]!)}`,
    );
    return WorkerExitCode.Fatal;
  } finally {
    // The spans of the last moments (a drained import's end) are still in the batch.
    await tracing
      ?.shutdown()
      .catch((err: unknown) => line(`tracing: spans not sent: ${oneLine(String(err))}`));
  }
}

/** The Temporal runtime: the worker's logger (level, format, secrets), and metrics if asked for. */
function installRuntime(config: WorkerConfig, env: NodeJS.ProcessEnv): void {
  const secrets = [
    config.connection.apiKey,
    env.TEMPORAL_TLS_CLIENT_KEY_DATA,
    env.AWS_SECRET_ACCESS_KEY,
    env.AWS_SESSION_TOKEN,
  ].filter((secret): secret is string => secret !== undefined && secret !== '');
  Runtime.install({
    logger: new WorkerLogger({ level: config.logLevel, format: config.logFormat, secrets }),
    // Signals are ours: the Runtime's default handler would swallow them while nothing is running yet.
    shutdownSignals: [],
    ...(config.metricsBindAddress === undefined
      ? {}
      : {
          telemetryOptions: {
            metrics: {
              prometheus: { bindAddress: config.metricsBindAddress, countersTotalSuffix: true },
            },
          },
        }),
  });
}

/** SIGINT/SIGTERM abort the returned signal; a process still running 9.5 s later exits. */
function stopOnSignals(): AbortSignal {
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) return;
    line(`${signal}: draining, exiting within ${Math.round(SIGNAL_EXIT_DEADLINE_MS / 1000)} s`);
    stop.abort();
    setTimeout(() => {
      line(`still running ${SIGNAL_EXIT_DEADLINE_MS} ms after ${signal}; exiting`);
      process.exit(process.exitCode ?? WorkerExitCode.Stopped);
    }, SIGNAL_EXIT_DEADLINE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return stop.signal;
}

async function serve(
  config: WorkerConfig,
  stop: AbortSignal,
  tracing: TracingFromEnv | undefined,
): Promise<WorkerExitCode> {
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
      ...(config.healthLakeCallsPerSecond === undefined
        ? {}
        : { healthLakeCallsPerSecond: config.healthLakeCallsPerSecond }),
      ...(config.coalesceImportPolls ? { coalesceImportPolls: true } : {}),
      healthLakeConfig,
      s3,
      ...(tracing ? { tracing: tracing.options } : {}),
      workerOptions: {
        shutdownGraceTime: SHUTDOWN_GRACE_MS,
        shutdownForceTime: SHUTDOWN_FORCE_MS,
        ...config.tuning,
      },
    });
    // Started even when a signal came during the build, so the native workers are released cleanly.
    const running = worker.runUntil(aborted(stop));
    if (config.metricsBindAddress !== undefined) {
      watchImportsWaiting({
        connection,
        namespace: config.namespace,
        meter: Runtime.instance().metricMeter,
        signal: stop,
        intervalMs: config.importsWaitingIntervalMs,
      });
    }
    // One line a supervisor (or a test) can wait for; no credentials, only where we listen. Its
    // start, "healthlake worker ready:", is unchanged since the first release (scripts match it).
    process.stderr.write(
      `healthlake worker ready: ${config.address} namespace ${config.namespace} task queues ${worker.taskQueue}, ${worker.apiTaskQueue}` +
        (config.healthLakeEndpoint
          ? ` HealthLake endpoint ${config.healthLakeEndpoint}`
          : ` HealthLake ${config.region}`) +
        (config.connection.tls ? ' (TLS' + (config.connection.apiKey ? ', API key)' : ')') : '') +
        (config.metricsBindAddress ? ` metrics http://${config.metricsBindAddress}/metrics` : '') +
        (tracing ? ` traces ${tracing.url}` : '') +
        '\n',
    );
    await running;
    return WorkerExitCode.Stopped;
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  void runWorkerMain(process.env).then((code) => {
    process.exitCode = code;
    // Everything we opened is closed; if a stray handle (a bundler, a late native call) still holds
    // the event loop, do not let it keep a dead worker alive.
    setTimeout(() => process.exit(code), LINGER_AFTER_EXIT_MS).unref();
  });
}
