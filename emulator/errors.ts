// The errors the emulator answers with: AWS's modelled HealthLake exceptions plus the generic
// awsJson1_0 protocol errors, each carrying its `__type` and HTTP status.

/** HTTP status per error type, as the HealthLake Smithy model and the awsJson1_0 protocol define them. */
export const ERROR_STATUS = {
  ValidationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  ThrottlingException: 429,
  InternalServerException: 500,
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
