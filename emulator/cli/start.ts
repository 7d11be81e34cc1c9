// `healthlake-emulator start` (also `temporal-healthlake emulator`): runs the local HealthLake on 127.0.0.1 until SIGINT/SIGTERM,
// over a given S3-compatible endpoint or a moto server it starts itself. Every problem the user
// must fix (bad flag, busy port, corrupt state) exits 2 with one line, and a moto it started never
// outlives it: it is stopped on every exit path, signals during start-up included.
import { constants as osConstants } from 'node:os';
import { EmulatorStartError, PRESETS, startEmulator, type EmulatorHandle, type PresetName } from '../index';
import { S3ServerStartError, startS3Server, type S3ServerHandle } from '../s3-server';
import {
  checkEndpointFlag,
  EndpointFlagError,
  parseFlags,
  parsePortFlag,
  printUsageError,
  type EmulatorCommand,
} from './command';

/** The port the README and the AWS endpoint examples use (LocalStack's too); `--port 0` picks a free one. */
export const DEFAULT_PORT = 4566;

/** Exit code for a problem the user must fix: a flag, a busy port, a corrupt state file. */
const EXIT_USAGE = 2;
const PREFIX = 'emulator: ';

const isPreset = (value: string): value is PresetName => Object.hasOwn(PRESETS, value);

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Listens for SIGINT/SIGTERM from the first moment, so a signal during start-up (moto takes
 * seconds to boot) aborts it instead of killing the process and orphaning moto. The listeners
 * stay until `dispose`, so a second signal while stopping reaches `onSecondSignal` (a forced
 * stop) instead of Node's default, which would end the process with moto still running.
 */
function listenForStop(onSecondSignal: (signal: NodeJS.Signals) => void) {
  const controller = new AbortController();
  let received: (signal: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    received = resolve;
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) return onSecondSignal(signal);
    controller.abort(new Error(`${signal} during start-up`));
    received(signal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return {
    signal: controller.signal,
    stopped,
    dispose: () => STOP_SIGNALS.forEach((signal) => process.off(signal, onSignal)),
  };
}

/** The one line for an error the user can act on, or undefined for a bug (which keeps its stack). */
function startProblem(err: unknown): string | undefined {
  if (err instanceof EmulatorStartError) return err.message;
  if (err instanceof S3ServerStartError) {
    // The reason carries moto's stderr tail; its last line is the Python error that matters.
    const lines = err.message
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    return lines.length > 1 ? `${lines[0]} ... ${lines.at(-1)}` : lines[0];
  }
  return undefined;
}

export const startCommand: EmulatorCommand = {
  async run(args) {
    const values = parseFlags(PREFIX, args, {
      port: { type: 'string', default: String(DEFAULT_PORT) },
      'data-dir': { type: 'string' },
      's3-endpoint': { type: 'string' },
      preset: { type: 'string', default: 'fast' },
      'events-sqs-queue-url': { type: 'string' },
    });
    if (values === undefined) return EXIT_USAGE;
    const port = parsePortFlag(PREFIX, values.port);
    if (port === undefined) return EXIT_USAGE;
    if (!isPreset(values.preset)) {
      printUsageError(
        PREFIX,
        `--preset "${values.preset}" must be one of ${Object.keys(PRESETS).join(', ')}`,
      );
      return EXIT_USAGE;
    }
    let givenS3Endpoint: string | undefined;
    let eventsQueueUrl: string | undefined;
    try {
      givenS3Endpoint = checkEndpointFlag('--s3-endpoint', values['s3-endpoint']);
      eventsQueueUrl = checkEndpointFlag('--events-sqs-queue-url', values['events-sqs-queue-url']);
    } catch (err) {
      if (!(err instanceof EndpointFlagError)) throw err;
      console.error(`${PREFIX}${err.message}`);
      return EXIT_USAGE;
    }

    let s3Server: S3ServerHandle | undefined;
    const stop = listenForStop((signal) => {
      // The user asked twice: stop now. State on disk is at its last status change; a job that
      // was running runs again from its first line on the next start.
      console.error(`emulator: second ${signal}: stopping now, without waiting for running jobs`);
      s3Server?.killNow();
      process.exit(128 + osConstants.signals[signal]);
    });
    let emulator: EmulatorHandle | undefined;
    // Last resort for exits nothing awaits (an uncaught error in a timer): kill moto synchronously.
    const killMotoOnExit = (): void => s3Server?.killNow();
    process.once('exit', killMotoOnExit);
    try {
      if (givenS3Endpoint === undefined) s3Server = await startS3Server({ signal: stop.signal });
      const s3Endpoint = givenS3Endpoint ?? s3Server!.endpoint;
      stop.signal.throwIfAborted();
      emulator = await startEmulator({
        port,
        dataDir: values['data-dir'],
        s3Endpoint,
        preset: values.preset,
        ...(eventsQueueUrl === undefined ? {} : { eventsSqsQueueUrl: eventsQueueUrl }),
      });
      stop.signal.throwIfAborted();
      console.log(`HealthLake emulator listening on ${emulator.url}`);
      console.log(`S3 endpoint: ${s3Endpoint}${s3Server ? ' (moto, started by the emulator)' : ''}`);
      console.log(
        `state: ${values['data-dir'] ?? 'in memory'}; preset: ${values.preset}; control API: ${emulator.url}/_emulator/`,
      );
      if (eventsQueueUrl !== undefined)
        console.log(`job and data store events (EventBridge envelopes) to SQS ${eventsQueueUrl}`);
      console.log(`${await stop.stopped}: stopping`);
      return 0;
    } catch (err) {
      if (stop.signal.aborted) {
        // Asked to stop while starting: a clean stop, not a failure.
        console.log(`${String((stop.signal.reason as Error).message)}: stopping`);
        return 0;
      }
      const line = startProblem(err);
      if (line === undefined) throw err;
      console.error(`${PREFIX}${line}`);
      return EXIT_USAGE;
    } finally {
      await emulator?.stop();
      await s3Server?.stop();
      process.off('exit', killMotoOnExit);
      stop.dispose();
    }
  },
};
