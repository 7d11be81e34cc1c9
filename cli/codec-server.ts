// `temporal-healthlake codec-server`: the AES-GCM codec behind Temporal's remote codec API, for the
// Web UI (`--ui-codec-endpoint`) and the CLI. Keys come from the environment, never from flags (a
// process list shows flags to every user of the machine).
import type { Command } from './commands';
import { parseFlags, parsePortFlag } from './flags';
import { createAesGcmCodec } from '../client/codec';
import { startCodecServer } from '../client/codec-server';

/** Environment variable with the keys: `<id>=<base64 of 32 bytes>[,<id>=<base64>...]`. */
export const CODEC_KEYS_ENV = 'HEALTHLAKE_CODEC_KEYS';

/**
 * Parses `<id>=<base64>,...` into keys, in order.
 *
 * @throws Error naming the entry and the rule (never the key material).
 */
export function parseCodecKeys(text: string): Record<string, Buffer> {
  const keys: Record<string, Buffer> = {};
  for (const [index, entry] of text.split(',').entries()) {
    const separator = entry.indexOf('=');
    const id = separator > 0 ? entry.slice(0, separator).trim() : '';
    const encoded = separator > 0 ? entry.slice(separator + 1).trim() : '';
    if (id === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
      throw new Error(`${CODEC_KEYS_ENV} entry ${index + 1} must be <id>=<base64 of a 32-byte key>`);
    }
    keys[id] = Buffer.from(encoded, 'base64');
  }
  return keys;
}

export const codecServerCommand: Command = {
  summary: `serve the AES-GCM payload codec for the Temporal UI (keys in ${CODEC_KEYS_ENV})`,
  async run(args) {
    const values = parseFlags('', args, {
      port: { type: 'string', default: '8888' },
      host: { type: 'string', default: '127.0.0.1' },
      'active-key-id': { type: 'string' },
      'ui-origin': { type: 'string', multiple: true },
    });
    if (values === undefined) return 2;
    const port = parsePortFlag('', values.port);
    if (port === undefined) return 2;
    const raw = process.env[CODEC_KEYS_ENV];
    if (!raw) {
      console.error(`${CODEC_KEYS_ENV} must hold the keys, <id>=<base64>[,...] (see --help)`);
      return 2;
    }
    let codec;
    try {
      const keys = parseCodecKeys(raw);
      codec = createAesGcmCodec({ keys, activeKeyId: values['active-key-id'] ?? Object.keys(keys)[0]! });
    } catch (err) {
      if (!(err instanceof Error)) throw err;
      console.error(err.message);
      return 2;
    }
    const server = await startCodecServer({
      codec,
      port,
      host: values.host,
      ...(values['ui-origin'] ? { allowedOrigins: values['ui-origin'] } : {}),
    });
    console.log(`codec server listening on ${server.url}`);
    console.log(`temporal server start-dev --ui-codec-endpoint ${server.url}`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    console.log(`${signal}: stopping`);
    await server.stop();
    return 0;
  },
};
