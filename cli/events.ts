// `temporal-healthlake relay` (HealthLake's job events from SQS → signals to the waiting imports,
// until SIGINT/SIGTERM) and `temporal-healthlake events-setup` (prints the CloudFormation for the
// EventBridge rule, the queue and the relay's IAM policy).
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Client, Connection } from '@temporalio/client';
import {
  createHealthLakeEventRelay,
  healthLakeEventsSetup,
  InvalidEventsSetupOption,
  type HealthLakeEventRelay,
} from '../client';
import { CommandFailed, ExitCode, UsageError } from './errors';
import type { ConnectionFlags } from './operate';

export interface RelayFlags extends ConnectionFlags {
  readonly queueUrl: string;
  readonly region: string;
  readonly sqsEndpoint?: string;
  readonly waitTimeSeconds: string;
  readonly unknownJobGraceMs: string;
}

function integerFlag(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${name} "${value}" must be an integer in ${min}..${max}`);
  return n;
}

function httpUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${name} "${value}" must be an http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`${name} "${value}" must be an http(s) URL`);
  return url;
}

const isLocalHost = (host: string): boolean => ['127.0.0.1', 'localhost', '[::1]'].includes(host);

/** Runs the relay until SIGINT/SIGTERM (exit 0); a queue or server it cannot reach is exit 1. */
export async function relayCommand(
  flags: RelayFlags,
  stop: AbortSignal = stopSignal(),
  started?: (relay: HealthLakeEventRelay) => void,
): Promise<ExitCode> {
  const queueUrl = httpUrl('--queue-url', flags.queueUrl);
  const endpoint = flags.sqsEndpoint === undefined ? undefined : httpUrl('--sqs-endpoint', flags.sqsEndpoint);
  const waitTimeSeconds = integerFlag('--wait-time-seconds', flags.waitTimeSeconds, 0, 20);
  const unknownJobGraceMs = integerFlag('--unknown-job-grace-ms', flags.unknownJobGraceMs, 0, 86_400_000);
  // A queue on a local server (moto) is reached at its own host with any credentials; an AWS
  // queue through the region's endpoint and the default credential chain.
  const local = isLocalHost((endpoint ?? queueUrl).hostname);
  const sqs = new SQSClient({
    region: flags.region,
    ...(endpoint !== undefined ? { endpoint: endpoint.origin } : local ? { endpoint: queueUrl.origin } : {}),
    ...(local ? { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } : {}),
  });
  let connection: Connection | undefined;
  try {
    try {
      await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: flags.queueUrl, AttributeNames: ['QueueArn'] }),
      );
    } catch (err) {
      throw new CommandFailed(
        `queue ${flags.queueUrl} not reachable: ${err instanceof Error ? err.name + ': ' + err.message.split('\n')[0] : String(err)}`,
      );
    }
    try {
      connection = await Connection.connect({ address: flags.address, connectTimeout: 5_000 });
    } catch (err) {
      throw new CommandFailed(
        `Temporal server ${flags.address} not reachable: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`,
      );
    }
    const client = new Client({ connection, namespace: flags.namespace });
    const relay = createHealthLakeEventRelay({
      sqs,
      queueUrl: flags.queueUrl,
      client,
      waitTimeSeconds,
      unknownJobGraceMs,
    });
    process.stderr.write(
      `relay: HealthLake job events from ${flags.queueUrl} to namespace ${flags.namespace} at ${flags.address}\n`,
    );
    started?.(relay);
    await relay.run(stop);
    const stats = relay.stats();
    process.stderr.write(
      `relay: stopped; ${stats.received} messages, ${stats.signalled} signalled, ${stats['import-closed']} for closed imports, ${stats['unknown-job']} unknown jobs, ${stats.ignored} ignored\n`,
    );
    return ExitCode.Ok;
  } finally {
    await connection?.close();
    sqs.destroy();
  }
}

/** Aborts on the first SIGINT/SIGTERM. */
function stopSignal(): AbortSignal {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return controller.signal;
}

export interface EventsSetupFlags {
  readonly region: string;
  readonly account: string;
  readonly queueName?: string;
  readonly format: 'yaml' | 'json';
}

/** Prints the CloudFormation template; a bad region, account or queue name is exit 2. */
export function eventsSetupCommand(flags: EventsSetupFlags): ExitCode {
  let text: string;
  try {
    text = healthLakeEventsSetup({
      region: flags.region,
      accountId: flags.account,
      format: flags.format,
      ...(flags.queueName === undefined ? {} : { queueName: flags.queueName }),
    });
  } catch (err) {
    if (err instanceof InvalidEventsSetupOption)
      throw new UsageError(`--${err.field.replace(' ', '-')} ${err.message.slice(err.field.length + 1)}`);
    throw err;
  }
  process.stdout.write(text);
  return ExitCode.Ok;
}
