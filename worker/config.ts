// The deployable worker's configuration, read and checked from environment variables before anything
// connects: a bad value is one line naming the variable, the value and the rule (exit code 2).
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import type { HealthLakeClientConfig } from '@aws-sdk/client-healthlake';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { DEFAULT_API_ACTIVITIES_PER_SECOND } from './index';
import { DEFAULT_API_TASK_QUEUE_UNPOLLED_FAIL_AFTER_MS } from './api-task-queue';
import { checkHttpEndpoint, EndpointConfigError } from './endpoint-config';
import { DEFAULT_IMPORTS_WAITING_INTERVAL_MS } from './metrics';
import type { WorkerLogFormat } from './logging';

/** Exit codes of `worker/main.ts`. */
export const WorkerExitCode = {
  /** Stopped on SIGINT/SIGTERM after draining (or before it ever polled). */
  Stopped: 0,
  /** A fatal start-up or run-time error: server unreachable, namespace or search attributes missing. */
  Fatal: 1,
  /** A configuration value is invalid. */
  BadConfig: 2,
} as const;
export type WorkerExitCode = (typeof WorkerExitCode)[keyof typeof WorkerExitCode];

/** A configuration variable with a value that breaks its rule. */
export class WorkerConfigError extends Error {
  override readonly name = 'WorkerConfigError';
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly rule: string,
  ) {
    super(`${variable} ${JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value)} ${rule}`);
  }
}

/** What `worker/main.ts` runs with, from the environment. */
export interface WorkerConfig {
  /** `TEMPORAL_ADDRESS` (or the profile's `address`), host:port. @default '127.0.0.1:7233' */
  readonly address: string;
  /** `TEMPORAL_NAMESPACE` (or the profile's `namespace`). @default 'default' */
  readonly namespace: string;
  /**
   * How to reach the server beyond the address, from Temporal's own conventions
   * (`@temporalio/envconfig`): the profile `TEMPORAL_PROFILE` of the TOML file `TEMPORAL_CONFIG_FILE`
   * (default `~/.config/temporalio/temporal.toml`), overridden by `TEMPORAL_API_KEY`, `TEMPORAL_TLS`,
   * `TEMPORAL_TLS_CLIENT_CERT_PATH`/`_DATA`, `TEMPORAL_TLS_CLIENT_KEY_PATH`/`_DATA`,
   * `TEMPORAL_TLS_SERVER_CA_CERT_PATH`/`_DATA`, `TEMPORAL_TLS_SERVER_NAME` and `TEMPORAL_GRPC_META_*`.
   * Holds the API key and the client key: never log it. @default {} (plain TCP, no key)
   */
  readonly connection: TemporalConnectionSettings;
  /** `TEMPORAL_TASK_QUEUE`. @default 'healthlake-import' */
  readonly taskQueue: string;
  /** `HEALTHLAKE_API_TASK_QUEUE`. @default taskQueue + '-healthlake-api' */
  readonly apiTaskQueue?: string;
  /** `HEALTHLAKE_API_ACTIVITIES_PER_SECOND`. @default 8 */
  readonly apiActivitiesPerSecond: number;
  /**
   * `HEALTHLAKE_CALLS_PER_SECOND`: HealthLake calls per second this process may make, every
   * operation together (`HealthLakeWorkerOptions.healthLakeCallsPerSecond`): the account's share
   * divided by the number of worker processes. @default unlimited (the API queue's rate only)
   */
  readonly healthLakeCallsPerSecond?: number;
  /**
   * `HEALTHLAKE_COALESCE_IMPORT_POLLS` (`true`/`false`): one List per data store answers every
   * import waiting on it in this process, and a List that shows a job ended wakes its import
   * (`HealthLakeWorkerOptions.coalesceImportPolls`). For hundreds of imports. @default false
   */
  readonly coalesceImportPolls: boolean;
  /** `HEALTHLAKE_API_QUEUE_UNPOLLED_FAIL_AFTER_MS`: see `HealthLakeWorkerOptions`. @default 600_000 */
  readonly apiTaskQueueUnpolledFailAfterMs: number;
  /** `AWS_REGION`. @default 'us-east-1' */
  readonly region: string;
  /** `HEALTHLAKE_ENDPOINT`, an http(s) URL of a local emulator. @default AWS */
  readonly healthLakeEndpoint?: string;
  /** `S3_ENDPOINT`, an http(s) URL of an S3-compatible server. @default AWS S3 */
  readonly s3Endpoint?: string;
  /** `TEMPORAL_CONNECT_TIMEOUT_MS`: how long to retry reaching the server at start. @default 30_000 */
  readonly connectTimeoutMs: number;
  /**
   * Whether the environment names an AWS credential source (`AWS_ACCESS_KEY_ID`, `AWS_PROFILE`,
   * `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`/`_FULL_URI`); if not,
   * local endpoints get static test credentials. Real AWS always uses the default credential chain.
   */
  readonly awsCredentialsInEnv: boolean;
  /** `HEALTHLAKE_WORKER_MAX_*`: see {@link WorkerTuning}. @default {} (the SDK's defaults) */
  readonly tuning: WorkerTuning;
  /** `TEMPORAL_LOG_LEVEL`: the SDK logger's level. @default 'WARN' */
  readonly logLevel: WorkerLogLevel;
  /** `HEALTHLAKE_LOG_FORMAT`: `text` or `json` (one object per line). @default 'text' */
  readonly logFormat: WorkerLogFormat;
  /**
   * `HEALTHLAKE_METRICS_BIND`, host:port where the Prometheus endpoint (`/metrics`) listens: the
   * Temporal runtime's metrics and the project's own (`healthlake_*`). @default none (no endpoint)
   */
  readonly metricsBindAddress?: string;
  /**
   * `HEALTHLAKE_METRICS_WAITING_INTERVAL_MS`: how often the `healthlake_imports_waiting` gauge is
   * recounted (one CountWorkflowExecutions call), with a metrics endpoint only. @default 15_000
   */
  readonly importsWaitingIntervalMs: number;
}

/** The server connection settings of {@link WorkerConfig.connection} (secret-bearing). */
export interface TemporalConnectionSettings {
  /** TLS settings; `true` is TLS with the system's roots; absent is plain TCP. */
  readonly tls?: NativeConnectionOptions['tls'];
  /** Temporal Cloud API key (sent as a bearer token; implies TLS). */
  readonly apiKey?: string;
  /** Extra gRPC headers (`TEMPORAL_GRPC_META_<NAME>` or the profile's `grpc_meta`). */
  readonly metadata?: Record<string, string>;
}

/**
 * Worker tuning for an import fleet that mostly waits: imports sleep between polls on server
 * timers (no slot held), so a few slots serve many imports; the cache keeps waiting imports'
 * state in memory so each poll result does not replay a history.
 */
export interface WorkerTuning {
  /** `HEALTHLAKE_WORKER_MAX_CACHED_WORKFLOWS`: workflows kept in memory. @default the SDK's (by memory) */
  readonly maxCachedWorkflows?: number;
  /** `HEALTHLAKE_WORKER_MAX_CONCURRENT_ACTIVITIES`: activity slots per worker. @default the SDK's (100) */
  readonly maxConcurrentActivityTaskExecutions?: number;
  /** `HEALTHLAKE_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS`: workflow task slots. @default the SDK's (40) */
  readonly maxConcurrentWorkflowTaskExecutions?: number;
}

export const WorkerLogLevel = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type WorkerLogLevel = (typeof WorkerLogLevel)[number];

/** The environment variables that name an AWS credential source for the default chain. */
const AWS_CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
] as const;

export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/;
const NO_WHITESPACE = /^\S{1,1000}$/;
const REGION = /^[a-z]{2}(-[a-z0-9]+)+$/;

/** Reads and checks every variable; throws {@link WorkerConfigError} on the first bad one. */
export function readWorkerConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const text = (name: string, fallback: string, pattern: RegExp, rule: string): string => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!pattern.test(raw)) throw new WorkerConfigError(name, raw, rule);
    return raw;
  };
  const optional = (name: string, pattern: RegExp, rule: string): string | undefined => {
    const value = text(name, '', pattern, rule);
    return value === '' ? undefined : value;
  };
  /** `min` 0 with `integer` false means "> 0" (a rate); otherwise "≥ min". */
  const number = (name: string, fallback: number, integer: boolean, min: number): number => {
    const value = optionalNumber(name, integer, min);
    return value === undefined ? fallback : value;
  };
  const optionalNumber = (name: string, integer: boolean, min: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const value = Number(raw);
    const tooSmall = integer ? value < min : value <= min;
    if (raw.trim() === '' || !Number.isFinite(value) || tooSmall || (integer && !Number.isInteger(value))) {
      const bound = integer ? `≥ ${min}` : `> ${min}`;
      throw new WorkerConfigError(name, raw, `must be a ${integer ? 'whole ' : ''}number ${bound}`);
    }
    return value;
  };
  const url = (name: string): string | undefined => {
    try {
      return checkHttpEndpoint(name, env[name]);
    } catch (err) {
      if (!(err instanceof EndpointConfigError)) throw err;
      throw new WorkerConfigError(name, err.value, `must be ${err.rule}`);
    }
  };
  const temporal = readTemporalProfile(env);
  const address = temporal.address ?? '127.0.0.1:7233';
  if (!HOST_PORT.test(address))
    throw new WorkerConfigError(temporal.source('address'), address, 'must be host:port');
  const port = Number(HOST_PORT.exec(address)![2]);
  if (port < 1 || port > 65_535) {
    throw new WorkerConfigError(temporal.source('address'), address, 'must have a port from 1 to 65535');
  }
  const namespace = temporal.namespace ?? 'default';
  if (!NO_WHITESPACE.test(namespace)) {
    throw new WorkerConfigError(
      temporal.source('namespace'),
      namespace,
      'must be 1-1000 characters, no whitespace',
    );
  }
  const apiTaskQueue = optional(
    'HEALTHLAKE_API_TASK_QUEUE',
    NO_WHITESPACE,
    'must be 1-1000 characters, no whitespace',
  );
  const healthLakeEndpoint = url('HEALTHLAKE_ENDPOINT');
  const s3Endpoint = url('S3_ENDPOINT');
  const healthLakeCallsPerSecond = optionalNumber('HEALTHLAKE_CALLS_PER_SECOND', false, 0);
  const coalesceImportPolls = text(
    'HEALTHLAKE_COALESCE_IMPORT_POLLS',
    'false',
    BOOLEAN,
    'must be true, false, 1 or 0',
  );
  const maxCachedWorkflows = optionalNumber('HEALTHLAKE_WORKER_MAX_CACHED_WORKFLOWS', true, 0);
  const maxActivities = optionalNumber('HEALTHLAKE_WORKER_MAX_CONCURRENT_ACTIVITIES', true, 1);
  const maxWorkflowTasks = optionalNumber('HEALTHLAKE_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', true, 2);
  const logLevel = text(
    'TEMPORAL_LOG_LEVEL',
    'WARN',
    new RegExp(`^(${WorkerLogLevel.join('|')})$`),
    `must be one of ${WorkerLogLevel.join(', ')}`,
  ) as WorkerLogLevel;
  const metricsBindAddress = optional(
    'HEALTHLAKE_METRICS_BIND',
    HOST_PORT,
    'must be host:port, e.g. 0.0.0.0:9464',
  );
  if (metricsBindAddress !== undefined) {
    const metricsPort = Number(HOST_PORT.exec(metricsBindAddress)![2]);
    if (metricsPort < 1 || metricsPort > 65_535) {
      throw new WorkerConfigError(
        'HEALTHLAKE_METRICS_BIND',
        metricsBindAddress,
        'must have a port from 1 to 65535',
      );
    }
  }
  return {
    address,
    namespace,
    connection: temporal.connection,
    taskQueue: text(
      'TEMPORAL_TASK_QUEUE',
      'healthlake-import',
      NO_WHITESPACE,
      'must be 1-1000 characters, no whitespace',
    ),
    ...(apiTaskQueue === undefined ? {} : { apiTaskQueue }),
    apiActivitiesPerSecond: number(
      'HEALTHLAKE_API_ACTIVITIES_PER_SECOND',
      DEFAULT_API_ACTIVITIES_PER_SECOND,
      false,
      0,
    ),
    ...(healthLakeCallsPerSecond === undefined ? {} : { healthLakeCallsPerSecond }),
    coalesceImportPolls: coalesceImportPolls === 'true' || coalesceImportPolls === '1',
    apiTaskQueueUnpolledFailAfterMs: number(
      'HEALTHLAKE_API_QUEUE_UNPOLLED_FAIL_AFTER_MS',
      DEFAULT_API_TASK_QUEUE_UNPOLLED_FAIL_AFTER_MS,
      true,
      0,
    ),
    region: text('AWS_REGION', 'us-east-1', REGION, 'must be an AWS region name, e.g. us-east-1'),
    ...(healthLakeEndpoint === undefined ? {} : { healthLakeEndpoint }),
    ...(s3Endpoint === undefined ? {} : { s3Endpoint }),
    connectTimeoutMs: number('TEMPORAL_CONNECT_TIMEOUT_MS', DEFAULT_CONNECT_TIMEOUT_MS, true, 1),
    awsCredentialsInEnv: AWS_CREDENTIAL_VARIABLES.some((name) => (env[name] ?? '') !== ''),
    tuning: {
      ...(maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows }),
      ...(maxActivities === undefined ? {} : { maxConcurrentActivityTaskExecutions: maxActivities }),
      ...(maxWorkflowTasks === undefined ? {} : { maxConcurrentWorkflowTaskExecutions: maxWorkflowTasks }),
    },
    logLevel,
    logFormat: text(
      'HEALTHLAKE_LOG_FORMAT',
      'text',
      /^(text|json)$/,
      'must be text or json',
    ) as WorkerLogFormat,
    ...(metricsBindAddress === undefined ? {} : { metricsBindAddress }),
    importsWaitingIntervalMs: number(
      'HEALTHLAKE_METRICS_WAITING_INTERVAL_MS',
      DEFAULT_IMPORTS_WAITING_INTERVAL_MS,
      true,
      100,
    ),
  };
}

/** Variables whose value is a secret: an error names them, never their value. */
const SECRET_VARIABLES = new Set(['TEMPORAL_API_KEY', 'TEMPORAL_TLS_CLIENT_KEY_DATA']);
const BOOLEAN = /^(true|false|1|0)$/;

/** The TLS files/data of a profile, with the variable that overrides each. */
const TLS_SOURCES = [
  { field: 'clientCert', variable: 'TEMPORAL_TLS_CLIENT_CERT', toml: 'client_cert', pem: 'CERTIFICATE' },
  { field: 'clientKey', variable: 'TEMPORAL_TLS_CLIENT_KEY', toml: 'client_key', pem: 'PRIVATE KEY' },
  {
    field: 'serverCACert',
    variable: 'TEMPORAL_TLS_SERVER_CA_CERT',
    toml: 'server_ca_cert',
    pem: 'CERTIFICATE',
  },
] as const;

interface TemporalProfile {
  readonly address?: string;
  readonly namespace?: string;
  readonly connection: TemporalConnectionSettings;
  /** The variable (or profile key) a value came from, for error messages. */
  source(key: 'address' | 'namespace'): string;
}

/**
 * Temporal's client conventions through `@temporalio/envconfig`, with every value checked: the
 * library itself ignores a missing TEMPORAL_CONFIG_FILE, reads `TEMPORAL_TLS=yes` as false and
 * drops a client certificate given without its key; here each is one line and exit code 2.
 */
function readTemporalProfile(env: NodeJS.ProcessEnv): TemporalProfile {
  // Empty means unset, as for every other variable here.
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && value !== '') vars[name] = value;
  const file = vars.TEMPORAL_CONFIG_FILE;
  const profileName = vars.TEMPORAL_PROFILE ?? 'default';
  const where = `profile "${profileName}" of ${file ?? 'the Temporal config file'}`;
  if (file !== undefined && !isReadableFile(file)) {
    throw new WorkerConfigError('TEMPORAL_CONFIG_FILE', file, 'must be a readable TOML file');
  }
  if (vars.TEMPORAL_TLS !== undefined && !BOOLEAN.test(vars.TEMPORAL_TLS)) {
    throw new WorkerConfigError('TEMPORAL_TLS', vars.TEMPORAL_TLS, 'must be true, false, 1 or 0');
  }
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: vars, configFileStrict: true });
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
    if (/^Profile '.*' not found/.test(message)) {
      throw new WorkerConfigError(
        'TEMPORAL_PROFILE',
        profileName,
        `must name a profile in ${file ?? 'the Temporal config file'}`,
      );
    }
    throw new WorkerConfigError(
      'TEMPORAL_CONFIG_FILE',
      file ?? '(default location)',
      `must be a valid Temporal config file: ${message}`,
    );
  }
  const source = (key: 'address' | 'namespace'): string => {
    const variable = key === 'address' ? 'TEMPORAL_ADDRESS' : 'TEMPORAL_NAMESPACE';
    return vars[variable] !== undefined ? variable : `${where}: ${key}`;
  };
  if (profile.apiKey !== undefined && !/^\S+$/.test(profile.apiKey)) {
    const from = vars.TEMPORAL_API_KEY !== undefined ? 'TEMPORAL_API_KEY' : `${where}: api_key`;
    throw new WorkerConfigError(from, '<redacted>', 'must be one token, no whitespace');
  }
  const tls = profile.tls;
  if (tls !== undefined) {
    const names: Partial<Record<(typeof TLS_SOURCES)[number]['field'], string>> = {};
    for (const { field, variable, toml, pem } of TLS_SOURCES) {
      const data = tls[field];
      if (data === undefined) continue;
      const name =
        vars[`${variable}_PATH`] !== undefined
          ? `${variable}_PATH`
          : vars[`${variable}_DATA`] !== undefined
            ? `${variable}_DATA`
            : `${where}: tls.${toml}_${'path' in data ? 'path' : 'data'}`;
      names[field] = name;
      const shown = (value: string): string =>
        SECRET_VARIABLES.has(name) || (field === 'clientKey' && !('path' in data)) ? '<redacted>' : value;
      let content: string;
      if ('path' in data) {
        if (!isReadableFile(data.path))
          throw new WorkerConfigError(name, data.path, 'must be a readable PEM file');
        content = readFileSync(data.path, 'utf8');
      } else {
        content = typeof data.data === 'string' ? data.data : Buffer.from(data.data).toString('utf8');
      }
      if (!content.includes('-----BEGIN ') || !content.includes(pem)) {
        throw new WorkerConfigError(
          name,
          shown('path' in data ? data.path : content),
          `must be PEM (-----BEGIN ...${pem}-----)`,
        );
      }
    }
    if ((tls.clientCert === undefined) !== (tls.clientKey === undefined)) {
      const [given, missing] =
        tls.clientCert === undefined
          ? (['clientKey', 'TEMPORAL_TLS_CLIENT_CERT_PATH'] as const)
          : (['clientCert', 'TEMPORAL_TLS_CLIENT_KEY_PATH'] as const);
      const data = tls[given]!;
      throw new WorkerConfigError(
        names[given]!,
        'path' in data ? data.path : '<inline PEM>',
        `is a client ${given === 'clientKey' ? 'key' : 'certificate'} without its pair: set ${missing} (or _DATA) too`,
      );
    }
  }
  const options = toClientOptions(profile).connectionOptions;
  const connection: TemporalConnectionSettings = {
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(options.apiKey === undefined ? {} : { apiKey: options.apiKey }),
    ...(options.metadata === undefined || Object.keys(options.metadata).length === 0
      ? {}
      : { metadata: options.metadata as Record<string, string> }),
  };
  return {
    ...(profile.address === undefined ? {} : { address: profile.address }),
    ...(profile.namespace === undefined ? {} : { namespace: profile.namespace }),
    connection,
    source,
  };
}

function isReadableFile(path: string): boolean {
  try {
    return statSync(path).isFile() && (accessSync(path, constants.R_OK), true);
  } catch {
    return false;
  }
}

/** Static credentials a local endpoint accepts; real AWS uses the default provider chain. */
const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

/** The HealthLake client config and the S3 client (always: the landing activities need one). */
export function awsClientsFor(config: WorkerConfig): {
  healthLakeConfig: HealthLakeClientConfig;
  s3: S3Client;
} {
  const local = config.awsCredentialsInEnv ? {} : { credentials: LOCAL_CREDENTIALS };
  return {
    healthLakeConfig: {
      region: config.region,
      ...(config.healthLakeEndpoint ? { endpoint: config.healthLakeEndpoint, ...local } : {}),
    },
    // Without S3_ENDPOINT this is real S3 with the default credential chain: landing works in AWS too.
    s3: new S3Client({
      region: config.region,
      ...(config.s3Endpoint ? { endpoint: config.s3Endpoint, forcePathStyle: true, ...local } : {}),
    }),
  };
}
