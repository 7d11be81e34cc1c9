// `temporal-healthlake emulator`: runs the local HealthLake on 127.0.0.1 until SIGINT/SIGTERM,
// over a given S3-compatible endpoint or a moto server it starts itself.
import { parseArgs } from 'node:util';
import type { Command } from './commands';
import { PRESETS, startEmulator, type PresetName } from '../emulator/index';
import { startS3Server, type S3ServerHandle } from '../emulator/s3-server';

const USAGE =
  'usage: temporal-healthlake emulator [--port <n>] [--data-dir <dir>] [--s3-endpoint <url>] [--preset aws|fast]';

const isPreset = (value: string): value is PresetName => Object.hasOwn(PRESETS, value);

export const emulatorCommand: Command = {
  summary: 'run the local HealthLake emulator on 127.0.0.1 (starts moto when no --s3-endpoint)',
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({
        args,
        strict: true,
        options: {
          port: { type: 'string', default: '0' },
          'data-dir': { type: 'string' },
          's3-endpoint': { type: 'string' },
          preset: { type: 'string', default: 'aws' },
        },
      }));
    } catch (err) {
      console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
      return 2;
    }
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      console.error(`--port "${values.port}" must be an integer in 0..65535\n${USAGE}`);
      return 2;
    }
    if (!isPreset(values.preset)) {
      console.error(
        `--preset "${values.preset}" must be one of ${Object.keys(PRESETS).join(', ')}\n${USAGE}`,
      );
      return 2;
    }
    let s3Server: S3ServerHandle | undefined;
    const s3Endpoint = values['s3-endpoint'] ?? (s3Server = await startS3Server()).endpoint;
    const emulator = await startEmulator({
      port,
      dataDir: values['data-dir'],
      s3Endpoint,
      preset: values.preset,
    });
    console.log(`HealthLake emulator listening on ${emulator.url}`);
    console.log(`S3 endpoint: ${s3Endpoint}${s3Server ? ' (moto, started by the emulator)' : ''}`);
    console.log(
      `state: ${values['data-dir'] ?? 'in memory'}; preset: ${values.preset}; control API: ${emulator.url}/_emulator/`,
    );
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    console.log(`${signal}: stopping`);
    await emulator.stop();
    await s3Server?.stop();
    return 0;
  },
};
