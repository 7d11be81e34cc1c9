// AES-256-GCM payload codec for teams that require encryption at rest in Temporal: every payload
// (workflow inputs and results, activity arguments, heartbeats, signals, memos) is stored as
// ciphertext; the key never leaves the worker, the client and the codec server. Runs outside the
// workflow sandbox (node:crypto), in `dataConverter.payloadCodecs` of the worker and the client.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/** Payload metadata `encoding` of an encrypted payload (the value of Temporal's samples). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Payload metadata key naming the key a payload was encrypted with. */
export const ENCRYPTION_KEY_ID_METADATA = 'encryption-key-id';

const CIPHER = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Failure types of the codec (the `name` of its errors). */
export const PayloadCodecErrorType = {
  InvalidCodecKeys: 'InvalidCodecKeys',
  UnknownEncryptionKey: 'UnknownEncryptionKey',
  PayloadDecryptionFailed: 'PayloadDecryptionFailed',
} as const;
export type PayloadCodecErrorType = (typeof PayloadCodecErrorType)[keyof typeof PayloadCodecErrorType];

/** A codec error: names the key id (never key material or payload content). */
export class PayloadCodecError extends Error {
  constructor(
    override readonly name: PayloadCodecErrorType,
    message: string,
    readonly keyId?: string,
  ) {
    super(message);
  }
}

export interface AesGcmCodecOptions {
  /**
   * AES-256 keys (32 bytes each) by id. Keep retired keys here as long as histories encrypted with
   * them must be readable; the id is stored in each payload's metadata (not secret).
   */
  readonly keys: Readonly<Record<string, Uint8Array>>;
  /** The key that encrypts new payloads; must be in `keys`. */
  readonly activeKeyId: string;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * A `PayloadCodec` that encrypts each payload with AES-256-GCM under the active key: the whole
 * payload (metadata and data, protobuf-encoded) becomes `iv (12 bytes) | ciphertext | tag (16)`,
 * with `encoding: binary/encrypted` and the key id in the metadata; the key id is authenticated
 * too. Decoding picks the key by that id (so keys rotate: add the new key, make it active, keep the
 * old one for old histories), passes unencrypted payloads through (histories from before you
 * turned it on), and fails loudly on an unknown key id or a tampered payload.
 *
 * Search attributes are not payloads a codec sees: the server indexes them in plaintext. Failure
 * messages are plaintext unless the failure converter encodes them (`encodeCommonAttributes`).
 *
 * @example
 * const codec = createAesGcmCodec({ keys: { k2026: key }, activeKeyId: 'k2026' });
 * const worker = await createHealthLakeWorker({ ..., workerOptions: { dataConverter: { payloadCodecs: [codec] } } });
 * const client = new Client({ connection, dataConverter: { payloadCodecs: [codec] } });
 */
export function createAesGcmCodec(options: AesGcmCodecOptions): PayloadCodec {
  const keys = new Map<string, Buffer>();
  for (const [id, key] of Object.entries(options.keys)) {
    if (key.length !== KEY_BYTES) {
      throw new PayloadCodecError(
        PayloadCodecErrorType.InvalidCodecKeys,
        `keys.${id} has ${key.length} bytes; an AES-256 key must have ${KEY_BYTES}`,
        id,
      );
    }
    keys.set(id, Buffer.from(key));
  }
  const activeKey = keys.get(options.activeKeyId);
  if (activeKey === undefined) {
    throw new PayloadCodecError(
      PayloadCodecErrorType.InvalidCodecKeys,
      `activeKeyId "${options.activeKeyId}" must name one of keys (${[...keys.keys()].join(', ') || 'none'})`,
      options.activeKeyId,
    );
  }
  const keyIdBytes = utf8.encode(options.activeKeyId);

  function encrypt(payload: Payload): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, activeKey!, iv);
    cipher.setAAD(keyIdBytes);
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        encoding: utf8.encode(ENCRYPTED_ENCODING),
        [ENCRYPTION_KEY_ID_METADATA]: keyIdBytes,
      },
      data,
    };
  }

  function decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.encoding;
    if (encoding === undefined || encoding === null || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING) {
      return payload;
    }
    const rawKeyId = payload.metadata?.[ENCRYPTION_KEY_ID_METADATA];
    const keyId = rawKeyId ? fromUtf8.decode(rawKeyId) : '';
    const key = keys.get(keyId);
    if (key === undefined) {
      throw new PayloadCodecError(
        PayloadCodecErrorType.UnknownEncryptionKey,
        `payload was encrypted with key "${keyId}", which this codec does not have (it has ${[...keys.keys()].join(', ')}); ` +
          'add the retired key to keys',
        keyId,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    try {
      if (data.length < IV_BYTES + TAG_BYTES) throw new Error('too short');
      const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES));
      decipher.setAAD(utf8.encode(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(plain);
    } catch {
      throw new PayloadCodecError(
        PayloadCodecErrorType.PayloadDecryptionFailed,
        `payload encrypted with key "${keyId}" does not authenticate: it was altered, or the key is not the one it was encrypted with`,
        keyId,
      );
    }
  }

  return {
    async encode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map(encrypt);
    },
    async decode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map(decrypt);
    },
  };
}

/**
 * Path of the module whose `failureConverter` encodes failure messages and stack traces into a
 * payload, so the codec encrypts them as well: pass it as `dataConverter.failureConverterPath` on
 * the worker, every client, and `bundleWorkflowCode` when you pre-bundle.
 */
export const ENCRYPTED_FAILURE_CONVERTER_PATH: string = require.resolve('./encrypted-failures');
