// The deployable worker's configuration, read and checked from environment variables before anything
// connects: a bad value is one line naming the variable, the value and the rule (exit code 2).
import { S3Client } from '@aws-sdk/client-s3';
import type { HealthLakeClientConfig } from '@aws-sdk/client-healthlake';
import { DEFAULT_API_ACTIVITIES_PER_SECOND } from './index';
import { DEFAULT_API_TASK_QUEUE_UNPOLLED_FAIL_AFTER_MS } from './api-task-queue';
import { checkHttpEndpoint, EndpointConfigError } from './endpoint-config';

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
  /** `TEMPORAL_ADDRESS`, host:port. @default '127.0.0.1:7233' */
  readonly address: string;
  /** `TEMPORAL_NAMESPACE`. @default 'default' */
  readonly namespace: string;
  /** `TEMPORAL_TASK_QUEUE`. @default 'healthlake-import' */
  readonly taskQueue: string;
  /** `HEALTHLAKE_API_TASK_QUEUE`. @default taskQueue + '-healthlake-api' */
  readonly apiTaskQueue?: string;
  /** `HEALTHLAKE_API_ACTIVITIES_PER_SECOND`. @default 8 */
  readonly apiActivitiesPerSecond: number;
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
  /** Whether `AWS_ACCESS_KEY_ID` is set (else local endpoints get static test credentials). */
  readonly awsCredentialsInEnv: boolean;
}

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
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
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
  const address = text('TEMPORAL_ADDRESS', '127.0.0.1:7233', HOST_PORT, 'must be host:port');
  const port = Number(HOST_PORT.exec(address)![2]);
  if (port < 1 || port > 65_535) {
    throw new WorkerConfigError('TEMPORAL_ADDRESS', address, 'must have a port from 1 to 65535');
  }
  const apiTaskQueue = optional(
    'HEALTHLAKE_API_TASK_QUEUE',
    NO_WHITESPACE,
    'must be 1-1000 characters, no whitespace',
  );
  const healthLakeEndpoint = url('HEALTHLAKE_ENDPOINT');
  const s3Endpoint = url('S3_ENDPOINT');
  return {
    address,
    namespace: text(
      'TEMPORAL_NAMESPACE',
      'default',
      NO_WHITESPACE,
      'must be 1-1000 characters, no whitespace',
    ),
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
    awsCredentialsInEnv: env.AWS_ACCESS_KEY_ID !== undefined,
  };
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
