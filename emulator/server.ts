// The emulator's HTTP server on 127.0.0.1: routes `/_emulator/...` to the control API and
// everything else to the AWS surface, after reading the body within the size limit. Never leaves
// a request unanswered: unexpected errors become an InternalServerException.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONTROL_PREFIX } from './control-api';
import { EmulatorStartError, EmulatorStartProblem, ServiceError, systemErrorDetail } from './errors';
import { readBody, sendJson } from './http';
import { sendAwsError } from './wire';

/** The only address the emulator listens on. */
export const LOCALHOST = '127.0.0.1';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>;

export interface HttpServerOptions {
  readonly port: number;
  readonly maxBodyBytes: number;
  readonly aws: Handler;
  readonly control: Handler;
  readonly onError: (message: string) => void;
}

export interface RunningServer {
  readonly port: number;
  /** Stops accepting requests and closes open connections. */
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningServer> {
  const { maxBodyBytes, onError } = options;
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const result = await readBody(req, maxBodyBytes);
    const isControl = (req.url ?? '/').startsWith(CONTROL_PREFIX);
    if (!result.ok) {
      const message = `Request body exceeds ${maxBodyBytes} bytes`;
      if (isControl) return sendJson(res, 413, { error: message });
      return sendAwsError(res, new ServiceError('RequestEntityTooLargeException', message), randomUUID());
    }
    if (isControl) return options.control(req, res, result.body);
    if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') {
      const message = `${req.method ?? ''} ${req.url ?? ''} is not a HealthLake endpoint; send POST /`;
      return sendAwsError(res, new ServiceError('UnknownOperationException', message), randomUUID());
    }
    await options.aws(req, res, result.body);
  };
  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      onError(`emulator: request failed: ${err instanceof Error ? err.name : 'error'}`);
      if (res.headersSent) res.destroy();
      else sendAwsError(res, new ServiceError('InternalServerException', 'Internal error'), randomUUID());
    });
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException): void => reject(listenError(options.port, err));
    server.once('error', failed);
    server.listen(options.port, LOCALHOST, () => {
      server.off('error', failed);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listenError(port: number, err: NodeJS.ErrnoException): EmulatorStartError {
  return new EmulatorStartError(
    EmulatorStartProblem.Listen,
    err.code === 'EADDRINUSE'
      ? `port ${port} on ${LOCALHOST} is already in use (EADDRINUSE); choose another port, or 0 for a free one`
      : `cannot listen on ${LOCALHOST}:${port} (${systemErrorDetail(err)})`,
  );
}
