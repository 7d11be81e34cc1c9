// TLS for tests: a throwaway PKI made with openssl, and a TLS-terminating TCP proxy in front of the
// dev server (which has no TLS flags). gRPC's HTTP/2 passes through a TCP-level terminator unchanged,
// so the worker sees what Temporal Cloud or a TLS-enabled cluster shows it: a certificate chain,
// optionally a demand for a client certificate, then gRPC.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';

/** Paths of PEM files: one CA, a server and a client certificate it signed, and an unrelated CA. */
export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that signed nothing here: a worker trusting it must refuse the server. */
  readonly otherCaCert: string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Generates the PKI (EC P-256, 1 day) in a new temp directory; the server cert is for 127.0.0.1 and localhost. */
export function generateTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'healthlake-pki-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) {
    openssl(dir, [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-days',
      '1',
      '-subj',
      `/CN=healthlake test ${ca}`,
    ]);
  }
  const sign = (name: string, subject: string, extensions: string): void => {
    openssl(dir, ['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    ]);
  };
  sign('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  sign('client', '/CN=healthlake-worker', 'extendedKeyUsage=clientAuth\n');
  const at = (file: string) => join(dir, file);
  return {
    dir,
    caCert: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    otherCaCert: at('other-ca.crt'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TlsProxy {
  /** host:port the proxy listens on (TLS). */
  readonly address: string;
  /** TLS connections that completed the handshake (with a verified client certificate under mTLS). */
  readonly authorizedConnections: () => number;
  /** Handshakes that failed (a client that refused our certificate, or sent none under mTLS). */
  readonly failedHandshakes: () => number;
  close(): Promise<void>;
}

/**
 * Listens with TLS on 127.0.0.1 and pipes each connection to `target` (host:port) in plain TCP.
 * With `clientCa`, it requires a client certificate that CA signed (mTLS, as Temporal Cloud does).
 */
export async function startTlsProxy(options: {
  readonly target: string;
  readonly pki: TestPki;
  readonly requireClientCert: boolean;
}): Promise<TlsProxy> {
  const [host, port] = splitHostPort(options.target);
  let authorized = 0;
  let failed = 0;
  const sockets = new Set<Socket>();
  const server = createServer(
    {
      key: readFileSync(options.pki.serverKey),
      cert: readFileSync(options.pki.serverCert),
      ca: readFileSync(options.pki.caCert),
      requestCert: options.requireClientCert,
      rejectUnauthorized: options.requireClientCert,
      // gRPC clients negotiate HTTP/2 by ALPN.
      ALPNProtocols: ['h2'],
    },
    (tlsSocket: TLSSocket) => {
      authorized += 1;
      const upstream = connect(port, host);
      sockets.add(tlsSocket);
      sockets.add(upstream);
      tlsSocket.pipe(upstream).pipe(tlsSocket);
      const end = () => {
        tlsSocket.destroy();
        upstream.destroy();
        sockets.delete(tlsSocket);
        sockets.delete(upstream);
      };
      tlsSocket.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    },
  );
  server.on('tlsClientError', () => (failed += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('TLS proxy has no port');
  return {
    address: `127.0.0.1:${address.port}`,
    authorizedConnections: () => authorized,
    failedHandshakes: () => failed,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function splitHostPort(address: string): [string, number] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), Number(address.slice(at + 1))];
}
