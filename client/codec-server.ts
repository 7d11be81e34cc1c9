// A codec server for the Temporal UI and CLI: Temporal's remote codec HTTP API (`POST /encode`,
// `POST /decode`, payloads as proto3 JSON) over a PayloadCodec, so people can read encrypted
// histories in the browser while the key stays on this server. Point the UI at it with
// `temporal server start-dev --ui-codec-endpoint http://127.0.0.1:<port>` (or the UI's settings).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';

export interface CodecServerOptions {
  /** The codec whose encode/decode the server runs, e.g. `createAesGcmCodec(...)`. */
  readonly codec: PayloadCodec;
  /** TCP port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Interface to listen on. Keep it local unless it sits behind authentication. @default '127.0.0.1' */
  readonly host?: string;
  /**
   * Browser origins allowed to call it (CORS), e.g. the UI's `http://localhost:8233`.
   * @default ['http://localhost:8233', 'http://127.0.0.1:8233'] (the dev server's UI)
   */
  readonly allowedOrigins?: readonly string[];
  /** Largest request body accepted, in bytes. @default 4_194_304 (4 MiB) */
  readonly maxBodyBytes?: number;
}

export interface CodecServerHandle {
  /** `http://<host>:<port>`: what `--ui-codec-endpoint` takes. */
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A payload in proto3 JSON, as the UI and CLI send it: metadata values and data in base64. */
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const DEFAULT_ALLOWED_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'] as const;
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

function fromJson(payload: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    metadata[key] = Buffer.from(value, 'base64');
  }
  return { metadata, data: Buffer.from(payload.data ?? '', 'base64') };
}

function toJson(payload: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    if (value) metadata[key] = Buffer.from(value).toString('base64');
  }
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

class BadRequest extends Error {}

async function readBody(request: IncomingMessage, limit: number): Promise<{ payloads: JsonPayload[] }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BadRequest(`request body is over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequest('request body must be JSON: {"payloads": [...]}');
  }
  const payloads = (body as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(payloads)) throw new BadRequest('request body must be JSON: {"payloads": [...]}');
  return { payloads: payloads as JsonPayload[] };
}

/**
 * Starts the codec server. `POST /encode` and `POST /decode` take and answer
 * `{"payloads": [{"metadata": {...base64}, "data": "base64"}]}`; `OPTIONS` answers CORS preflights
 * for the allowed origins. A payload that does not decode (unknown key, tampered) answers 400
 * with the codec's message (key ids only, no content).
 *
 * @example
 * const server = await startCodecServer({ codec: createAesGcmCodec({ keys, activeKeyId }), port: 8888 });
 * // temporal server start-dev --ui-codec-endpoint http://127.0.0.1:8888
 */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServerHandle> {
  const allowed = new Set(options.allowedOrigins ?? DEFAULT_ALLOWED_ORIGINS);
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const host = options.host ?? '127.0.0.1';

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const origin = request.headers.origin;
    if (origin !== undefined && allowed.has(origin)) {
      response.setHeader('Access-Control-Allow-Origin', origin);
      response.setHeader('Access-Control-Allow-Credentials', 'true');
      response.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      response.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      response.setHeader('Vary', 'Origin');
    }
    const path = (request.url ?? '').split('?')[0] ?? '';
    if (request.method === 'OPTIONS') {
      response.writeHead(origin !== undefined && allowed.has(origin) ? 204 : 403).end();
      return;
    }
    const operation = path.endsWith('/encode') ? 'encode' : path.endsWith('/decode') ? 'decode' : undefined;
    if (request.method !== 'POST' || operation === undefined) {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('POST /encode or POST /decode');
      return;
    }
    try {
      const { payloads } = await readBody(request, limit);
      const result = await options.codec[operation](payloads.map(fromJson));
      response
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ payloads: result.map(toJson) }));
    } catch (err) {
      const message = err instanceof Error ? err.message : 'codec failed';
      response.writeHead(400, { 'Content-Type': 'text/plain' }).end(message);
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
