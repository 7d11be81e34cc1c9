// The AWS surface: HealthLake's awsJson1_0 protocol on `POST /`. Turns an HTTP request into an
// operation call (target header, content type, JSON body), applies injected faults, quotas and
// input validation, and answers in AWS's shape: JSON body, `__type` errors with the modelled
// HTTP status, `x-amzn-requestid`.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceError } from './errors';
import type { CallCounters, FaultInjector } from './faults';
import { jsonNestingDepth, MAX_JSON_DEPTH, sendJson } from './http';
import type { ServiceContext } from './operations/context';
import { OPERATIONS, rateLimitFor } from './operations';
import type { RateLimiter } from './quotas';
import { OPERATION_INPUTS, validateInput, type OperationName } from './shapes';

export const AWS_JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
export const TARGET_PREFIX = 'HealthLake.';

export interface AwsSurfaceDeps {
  readonly ctx: ServiceContext;
  readonly faults: FaultInjector;
  readonly counters: CallCounters;
  readonly limiter: RateLimiter;
  /** Reports unexpected handler errors (names only, never request contents). */
  readonly onError: (message: string) => void;
}

const isOperation = (name: string): name is OperationName => Object.hasOwn(OPERATION_INPUTS, name);

/** Parses the parts of a request the protocol cares about; throws the protocol error AWS would send. */
export function parseAwsRequest(
  headers: IncomingMessage['headers'],
  body: Buffer,
): { operation: OperationName; input: unknown } {
  const contentType = String(headers['content-type'] ?? '');
  if (contentType.split(';')[0]!.trim().toLowerCase() !== AWS_JSON_CONTENT_TYPE)
    throw new ServiceError(
      'UnsupportedMediaTypeException',
      `Content-Type '${contentType}' is not supported; HealthLake (awsJson1_0) needs '${AWS_JSON_CONTENT_TYPE}'`,
    );
  const target = String(headers['x-amz-target'] ?? '');
  const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
  if (!isOperation(operation))
    throw new ServiceError(
      'UnknownOperationException',
      target === ''
        ? 'Missing X-Amz-Target header'
        : `X-Amz-Target '${target}' is not a HealthLake operation`,
    );
  const text = body.toString('utf8').trim();
  if (jsonNestingDepth(text) > MAX_JSON_DEPTH)
    throw new ServiceError(
      'SerializationException',
      `Request body of ${operation} nests deeper than ${MAX_JSON_DEPTH} levels`,
    );
  let input: unknown;
  try {
    input = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new ServiceError('SerializationException', `Request body of ${operation} is not valid JSON`);
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new ServiceError('SerializationException', `Request body of ${operation} must be a JSON object`);
  return { operation, input };
}

export function sendAwsError(res: ServerResponse, error: ServiceError, requestId: string): void {
  sendJson(
    res,
    error.statusCode,
    { __type: error.type, message: error.message },
    { 'content-type': AWS_JSON_CONTENT_TYPE, 'x-amzn-requestid': requestId, 'x-amzn-errortype': error.type },
  );
}

export function createAwsSurface(deps: AwsSurfaceDeps) {
  const { ctx, faults, counters, limiter } = deps;
  return async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const requestId = randomUUID();
    let operation: OperationName | undefined;
    try {
      const parsed = parseAwsRequest(req.headers, body);
      operation = parsed.operation;
      const latencyMs = faults.latencyMs(operation);
      if (latencyMs > 0) await sleep(latencyMs);
      const injected = faults.pick(operation);
      if (injected) {
        counters.record(operation, injected, true);
        return sendAwsError(res, injected, requestId);
      }
      const definition = OPERATIONS[operation];
      if (!limiter.tryTake(definition.quotaKey, rateLimitFor(ctx.settings.quotas, definition)))
        throw new ServiceError('ThrottlingException', `Rate exceeded for ${operation}`);
      validateInput(operation, parsed.input);
      const output = await definition.handle(ctx, parsed.input);
      counters.record(operation);
      const responseLatencyMs = faults.responseLatencyMs(operation);
      if (responseLatencyMs > 0) await sleep(responseLatencyMs);
      sendJson(res, 200, output, { 'content-type': AWS_JSON_CONTENT_TYPE, 'x-amzn-requestid': requestId });
    } catch (err) {
      const error =
        err instanceof ServiceError
          ? err
          : new ServiceError(
              'InternalServerException',
              `Internal error in ${operation ?? 'request'} (request ${requestId})`,
            );
      if (!(err instanceof ServiceError))
        deps.onError(
          `emulator: ${operation ?? 'request'} ${requestId} failed: ${err instanceof Error ? err.name : 'error'}`,
        );
      if (operation) counters.record(operation, error);
      sendAwsError(res, error, requestId);
    }
  };
}
