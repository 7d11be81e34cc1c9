// The input shapes of the 13 HealthLake operations with every constraint the Smithy model puts on
// them (required, length, pattern, enum, range, union), and the pure validator that checks a
// request against them and words failures the way AWS does.
import {
  AuthorizationStrategy,
  CmkType,
  DatastoreStatus,
  FHIRVersion,
  JobStatus,
  PreloadDataType,
  ValidationLevel,
} from '@aws-sdk/client-healthlake';
import { ServiceError } from './errors';

/** One member's shape. Patterns are ECMAScript regexes as the model writes them (unanchored unless `^…$`). */
export type Shape =
  | {
      readonly kind: 'string';
      readonly min?: number;
      readonly max?: number;
      readonly pattern?: string;
      readonly enum?: readonly string[];
    }
  | { readonly kind: 'integer'; readonly min?: number; readonly max?: number }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'timestamp' }
  | { readonly kind: 'list'; readonly member: Shape; readonly min?: number; readonly max?: number }
  | { readonly kind: 'structure'; readonly members: Readonly<Record<string, Member>> }
  | { readonly kind: 'union'; readonly members: Readonly<Record<string, Member>> };

export interface Member {
  readonly shape: Shape;
  readonly required?: boolean;
}

const NAME_PATTERN = '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-%@]*)$';
const TAG_PATTERN = '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$';

const datastoreId: Shape = { kind: 'string', min: 1, max: 32, pattern: NAME_PATTERN };
const jobId: Shape = { kind: 'string', min: 1, max: 32, pattern: NAME_PATTERN };
const jobName: Shape = { kind: 'string', min: 1, max: 64, pattern: NAME_PATTERN };
const datastoreName: Shape = { kind: 'string', min: 1, max: 256, pattern: NAME_PATTERN };
const clientToken: Shape = { kind: 'string', min: 1, max: 64, pattern: '^[a-zA-Z0-9-]+$' };
/** Newer-model members: only their JSON type and a sane length are checked (see README). */
const profileId: Shape = { kind: 'string', min: 1, max: 256 };
const inputFormat: Shape = { kind: 'string', min: 1, max: 64 };
const roleArn: Shape = {
  kind: 'string',
  min: 20,
  max: 2048,
  pattern: '^arn:aws(-[^:]+)?:iam::[0-9]{12}:role/.+$',
};
const s3Uri: Shape = {
  kind: 'string',
  max: 1024,
  pattern: '^s3://[a-z0-9][\\.\\-a-z0-9]{1,61}[a-z0-9](/.*)?$',
};
const kmsKeyId: Shape = {
  kind: 'string',
  min: 1,
  max: 400,
  pattern:
    '(arn:aws((-us-gov)|(-iso)|(-iso-b)|(-cn))?:kms:)?([a-z]{2}-[a-z]+(-[a-z]+)?-\\d:)?(\\d{12}:)?(((key/)?[a-zA-Z0-9-_]+)|(alias/[a-zA-Z0-9:/_-]+))',
};
const nextToken: Shape = { kind: 'string', max: 8192, pattern: '^\\p{ASCII}{0,8192}$' };
const maxResults: Shape = { kind: 'integer', min: 1, max: 500 };
const resourceArn: Shape = {
  kind: 'string',
  min: 1,
  max: 1011,
  pattern: '^arn:aws((-us-gov)|(-iso)|(-iso-b)|(-cn))?:healthlake:[a-zA-Z0-9-]+:[0-9]{12}:datastore/.+?',
};
const tagKey: Shape = { kind: 'string', min: 1, max: 128, pattern: TAG_PATTERN };
const tag: Shape = {
  kind: 'structure',
  members: {
    Key: { shape: tagKey, required: true },
    Value: { shape: { kind: 'string', min: 0, max: 256, pattern: TAG_PATTERN }, required: true },
  },
};
const tagList: Shape = { kind: 'list', member: tag, min: 0, max: 200 };
const enumOf = (values: Readonly<Record<string, string>>): Shape => ({
  kind: 'string',
  enum: Object.values(values),
});
const jobStatus = enumOf(JobStatus);
const timestamp: Shape = { kind: 'timestamp' };
const outputDataConfig: Shape = {
  kind: 'union',
  members: {
    S3Configuration: {
      shape: {
        kind: 'structure',
        members: { S3Uri: { shape: s3Uri, required: true }, KmsKeyId: { shape: kmsKeyId, required: true } },
      },
    },
  },
};
const inputDataConfig: Shape = { kind: 'union', members: { S3Uri: { shape: s3Uri } } };

const struct = (members: Record<string, Member>): Shape => ({ kind: 'structure', members });
const req = (shape: Shape): Member => ({ shape, required: true });
const opt = (shape: Shape): Member => ({ shape });

const listJobs = struct({
  DatastoreId: req(datastoreId),
  NextToken: opt(nextToken),
  MaxResults: opt(maxResults),
  JobName: opt(jobName),
  JobStatus: opt(jobStatus),
  SubmittedBefore: opt(timestamp),
  SubmittedAfter: opt(timestamp),
});

/** Input shape of every operation, keyed by operation name. */
export const OPERATION_INPUTS = {
  CreateFHIRDatastore: struct({
    DatastoreName: opt(datastoreName),
    DatastoreTypeVersion: req(enumOf(FHIRVersion)),
    SseConfiguration: opt(
      struct({
        KmsEncryptionConfig: req(struct({ CmkType: req(enumOf(CmkType)), KmsKeyId: opt(kmsKeyId) })),
      }),
    ),
    PreloadDataConfig: opt(struct({ PreloadDataType: req(enumOf(PreloadDataType)) })),
    ClientToken: opt(clientToken),
    Tags: opt(tagList),
    IdentityProviderConfiguration: opt(
      struct({
        AuthorizationStrategy: req(enumOf(AuthorizationStrategy)),
        FineGrainedAuthorizationEnabled: opt({ kind: 'boolean' }),
        Metadata: opt({ kind: 'string' }),
        IdpLambdaArn: opt({
          kind: 'string',
          min: 49,
          max: 256,
          pattern:
            'arn:aws[-a-z]*:lambda:[a-z]{2}-[a-z]+-\\d{1}:\\d{12}:function:[a-zA-Z0-9\\-_\\.]+(:(\\$LATEST|[a-zA-Z0-9\\-_]+))?',
        }),
      }),
    ),
  }),
  DeleteFHIRDatastore: struct({ DatastoreId: req(datastoreId) }),
  DescribeFHIRDatastore: struct({ DatastoreId: req(datastoreId) }),
  ListFHIRDatastores: struct({
    Filter: opt(
      struct({
        DatastoreName: opt(datastoreName),
        DatastoreStatus: opt(enumOf(DatastoreStatus)),
        CreatedBefore: opt(timestamp),
        CreatedAfter: opt(timestamp),
      }),
    ),
    NextToken: opt(nextToken),
    MaxResults: opt(maxResults),
  }),
  StartFHIRImportJob: struct({
    JobName: opt(jobName),
    InputDataConfig: req(inputDataConfig),
    JobOutputDataConfig: req(outputDataConfig),
    DatastoreId: req(datastoreId),
    DataAccessRoleArn: req(roleArn),
    ClientToken: opt(clientToken),
    ValidationLevel: opt(enumOf(ValidationLevel)),
    // Members of the newer botocore model (1.44) that this JS SDK (3.1048) does not know: checked for
    // their JSON type and stored with the job (see emulator/README.md, "API model version").
    ProfileId: opt(profileId),
    InputFormat: opt(inputFormat),
    DriftDetectionEnabled: opt({ kind: 'boolean' }),
    ProvenanceEnabled: opt({ kind: 'boolean' }),
  }),
  DescribeFHIRImportJob: struct({ DatastoreId: req(datastoreId), JobId: req(jobId) }),
  ListFHIRImportJobs: listJobs,
  StartFHIRExportJob: struct({
    JobName: opt(jobName),
    OutputDataConfig: req(outputDataConfig),
    DatastoreId: req(datastoreId),
    DataAccessRoleArn: req(roleArn),
    ClientToken: opt(clientToken),
  }),
  DescribeFHIRExportJob: struct({ DatastoreId: req(datastoreId), JobId: req(jobId) }),
  ListFHIRExportJobs: listJobs,
  ListTagsForResource: struct({ ResourceARN: req(resourceArn) }),
  TagResource: struct({ ResourceARN: req(resourceArn), Tags: req(tagList) }),
  UntagResource: struct({
    ResourceARN: req(resourceArn),
    TagKeys: req({ kind: 'list', member: tagKey, min: 0, max: 200 }),
  }),
} as const satisfies Record<string, Shape>;

export type OperationName = keyof typeof OPERATION_INPUTS;
export const OPERATION_NAMES = Object.keys(OPERATION_INPUTS) as OperationName[];

const compiled = new Map<string, RegExp>();
function regex(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(pattern, 'u');
    compiled.set(pattern, re);
  }
  return re;
}

/** AWS spells member paths in lower camel case: `inputDataConfig.s3Uri`. */
const camel = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1);

const shown = (value: unknown): string => (typeof value === 'string' ? `'${value}'` : JSON.stringify(value));

const typeOf = (value: unknown): string =>
  Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;

/**
 * Checks `input` against `shape`. Constraint failures come back as messages in AWS's wording
 * (`Value 'x' at 'datastoreId' failed to satisfy constraint: Member must …`); a value of the
 * wrong JSON type throws a SerializationException, as AWS's JSON services do.
 */
export function constraintViolations(shape: Shape, value: unknown, path = ''): string[] {
  const at = (rule: string): string =>
    `Value ${shown(value)} at '${path}' failed to satisfy constraint: ${rule}`;
  const wrongType = (expected: string): never => {
    throw new ServiceError(
      'SerializationException',
      `Value at '${path || 'input'}' must be ${expected}, got ${typeOf(value)}`,
    );
  };
  switch (shape.kind) {
    case 'string': {
      if (typeof value !== 'string') return wrongType('a string');
      const violations: string[] = [];
      const length = [...value].length;
      if (shape.min !== undefined && length < shape.min)
        violations.push(at(`Member must have length greater than or equal to ${shape.min}`));
      if (shape.max !== undefined && length > shape.max)
        violations.push(at(`Member must have length less than or equal to ${shape.max}`));
      if (shape.pattern !== undefined && !regex(shape.pattern).test(value))
        violations.push(at(`Member must satisfy regular expression pattern: ${shape.pattern}`));
      if (shape.enum && !shape.enum.includes(value))
        violations.push(at(`Member must satisfy enum value set: [${shape.enum.join(', ')}]`));
      return violations;
    }
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value)) return wrongType('an integer');
      if (shape.min !== undefined && value < shape.min)
        return [at(`Member must have value greater than or equal to ${shape.min}`)];
      if (shape.max !== undefined && value > shape.max)
        return [at(`Member must have value less than or equal to ${shape.max}`)];
      return [];
    }
    case 'boolean':
      return typeof value === 'boolean' ? [] : wrongType('a boolean');
    case 'timestamp':
      return typeof value === 'number' && Number.isFinite(value) ? [] : wrongType('epoch seconds (a number)');
    case 'list': {
      if (!Array.isArray(value)) return wrongType('a list');
      const violations: string[] = [];
      if (shape.min !== undefined && value.length < shape.min)
        violations.push(at(`Member must have length greater than or equal to ${shape.min}`));
      if (shape.max !== undefined && value.length > shape.max)
        violations.push(at(`Member must have length less than or equal to ${shape.max}`));
      value.forEach((item, i) =>
        violations.push(...constraintViolations(shape.member, item, `${path}.${i + 1}.member`)),
      );
      return violations;
    }
    case 'structure':
    case 'union': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return wrongType('an object');
      const record = value as Record<string, unknown>;
      const violations: string[] = [];
      for (const [name, member] of Object.entries(shape.members)) {
        const memberPath = path ? `${path}.${camel(name)}` : camel(name);
        const memberValue = record[name];
        if (memberValue === undefined || memberValue === null) {
          if (member.required)
            violations.push(
              `Value null at '${memberPath}' failed to satisfy constraint: Member must not be null`,
            );
          continue;
        }
        violations.push(...constraintViolations(member.shape, memberValue, memberPath));
      }
      if (shape.kind === 'union') {
        const set = Object.keys(shape.members).filter((n) => record[n] !== undefined && record[n] !== null);
        const unknown = Object.keys(record).filter((n) => !(n in shape.members));
        if (set.length + unknown.length !== 1)
          violations.push(
            `Value ${JSON.stringify(record)} at '${path}' failed to satisfy constraint: Union must have exactly one member set, one of [${Object.keys(shape.members).join(', ')}]`,
          );
        else if (unknown.length === 1)
          violations.push(
            `Value ${JSON.stringify(record)} at '${path}' failed to satisfy constraint: Union member '${unknown[0]}' is not one of [${Object.keys(shape.members).join(', ')}]`,
          );
      }
      return violations;
    }
  }
}

/** Validates an operation's input; throws the ValidationException AWS would send. */
export function validateInput(operation: OperationName, input: unknown): void {
  const violations = constraintViolations(OPERATION_INPUTS[operation], input);
  if (violations.length === 0) return;
  const count = violations.length === 1 ? '1 validation error' : `${violations.length} validation errors`;
  throw new ServiceError('ValidationException', `${count} detected: ${violations.join('; ')}`);
}
