// The errors the emulator answers with: AWS's modelled HealthLake exceptions plus the generic
// awsJson1_0 protocol errors, each carrying its `__type` and HTTP status.

/**
 * HTTP status per error type, as the AWS HealthLake API reference and the awsJson1_0 protocol define
 * them. ThrottlingException is 400 there (the API reference's Common Errors list it as HTTP 400),
 * not 429: clients recognize it by its `__type` name, and the AWS SDKs retry it by name at any status.
 */
export const ERROR_STATUS = {
  ValidationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  ThrottlingException: 400,
  InternalServerException: 500,
  // Newer model (botocore 1.44): Start*Job may answer it when a service the job needs (S3, KMS)
  // failed. 424 is AWS's usual status for this name; HealthLake's is not in the model copy here.
  FailedDependencyException: 424,
  // Protocol-level errors (not in the HealthLake model; the SDK surfaces them by name).
  SerializationException: 400,
  UnknownOperationException: 400,
  UnsupportedMediaTypeException: 415,
  RequestEntityTooLargeException: 413,
} as const;

export type ServiceErrorType = keyof typeof ERROR_STATUS;

/** An error the emulator returns to the client as `{"__type": type, "message": message}`. */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly statusCode: number;
  constructor(
    readonly type: ServiceErrorType,
    message: string,
  ) {
    super(message);
    this.statusCode = ERROR_STATUS[type];
  }
}

export const validationError = (message: string): ServiceError =>
  new ServiceError('ValidationException', message);
export const notFound = (message: string): ServiceError =>
  new ServiceError('ResourceNotFoundException', message);
export const throttled = (message: string): ServiceError => new ServiceError('ThrottlingException', message);

/** Why `startEmulator` could not start; the CLI turns each into exit code 2 and one line. */
export const EmulatorStartProblem = {
  /** `state.json` unreadable, not JSON, not the emulator's shape, or from another version. */
  StateFile: 'state-file',
  /** The data directory cannot be created, read or written. */
  DataDir: 'data-dir',
  /** The port is taken, or listening on it is not allowed. */
  Listen: 'listen',
} as const;
export type EmulatorStartProblem = (typeof EmulatorStartProblem)[keyof typeof EmulatorStartProblem];

/**
 * Thrown by `startEmulator` for a problem the user must fix before it can start (a corrupt state
 * file, a busy port); the message names the file or port, the problem and what to do.
 */
export class EmulatorStartError extends Error {
  override readonly name = 'EmulatorStartError';
  constructor(
    readonly problem: EmulatorStartProblem,
    message: string,
  ) {
    super(message);
  }
}

/** `EACCES: permission denied` style detail of a Node system error, without the path it repeats. */
export function systemErrorDetail(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${code}: ${err.message.replace(/^[A-Z]+: /, '').split(',')[0]}` : err.message;
  }
  return String(err);
}
