// CreateFHIRDatastore, DeleteFHIRDatastore, DescribeFHIRDatastore, ListFHIRDatastores.
import type {
  CreateFHIRDatastoreRequest,
  CreateFHIRDatastoreResponse,
  DatastoreProperties,
  DeleteFHIRDatastoreRequest,
  DeleteFHIRDatastoreResponse,
  DescribeFHIRDatastoreRequest,
  DescribeFHIRDatastoreResponse,
  ListFHIRDatastoresRequest,
  ListFHIRDatastoresResponse,
} from '@aws-sdk/client-healthlake';
import { notFound, ServiceError, throttled, validationError } from '../errors';
import { isTerminal, type DatastoreRecord } from '../state/records';
import { fingerprint, toMs, toSeconds, type OnWire, type ServiceContext } from './context';
import { paginate } from './paginate';

export const datastoreArn = (ctx: ServiceContext, datastoreId: string): string =>
  `arn:aws:healthlake:${ctx.region}:${ctx.accountId}:datastore/fhir/${datastoreId}`;

export const datastoreEndpoint = (ctx: ServiceContext, datastoreId: string): string =>
  `https://healthlake.${ctx.region}.amazonaws.com/datastore/${datastoreId}/r4/`;

export function toDatastoreProperties(record: DatastoreRecord): OnWire<DatastoreProperties> {
  return {
    DatastoreId: record.datastoreId,
    DatastoreArn: record.datastoreArn,
    DatastoreName: record.datastoreName,
    DatastoreStatus: record.status,
    CreatedAt: toSeconds(record.createdAtMs),
    DatastoreTypeVersion: record.datastoreTypeVersion as DatastoreProperties['DatastoreTypeVersion'],
    DatastoreEndpoint: record.datastoreEndpoint,
    SseConfiguration: record.sseConfiguration as DatastoreProperties['SseConfiguration'],
    PreloadDataConfig: record.preloadDataConfig as DatastoreProperties['PreloadDataConfig'],
    IdentityProviderConfiguration:
      record.identityProviderConfiguration as DatastoreProperties['IdentityProviderConfiguration'],
    ...(record.errorCause === undefined ? {} : { ErrorCause: { ...record.errorCause } }),
  };
}

/** The data store, or ResourceNotFoundException naming the id. */
export function requireDatastore(ctx: ServiceContext, datastoreId: string): DatastoreRecord {
  const record = ctx.state.datastores.get(datastoreId);
  if (!record)
    throw notFound(`Data store ${datastoreId} does not exist in account ${ctx.accountId} (${ctx.region})`);
  return record;
}

const summary = (record: DatastoreRecord): OnWire<CreateFHIRDatastoreResponse> => ({
  DatastoreId: record.datastoreId,
  DatastoreArn: record.datastoreArn,
  DatastoreStatus: record.status,
  DatastoreEndpoint: record.datastoreEndpoint,
});

const DEFAULT_SSE = { KmsEncryptionConfig: { CmkType: 'AWS_OWNED_KMS_KEY' } } as const;

export function createFHIRDatastore(
  ctx: ServiceContext,
  input: OnWire<CreateFHIRDatastoreRequest>,
): OnWire<CreateFHIRDatastoreResponse> {
  const requestFingerprint = fingerprint(input);
  if (input.ClientToken !== undefined) {
    const previous = [...ctx.state.datastores.values()].find((d) => d.clientToken === input.ClientToken);
    if (previous) {
      if (previous.requestFingerprint !== requestFingerprint)
        throw validationError(
          `Value '${input.ClientToken}' at 'clientToken' failed to satisfy constraint: ClientToken was already used with a different CreateFHIRDatastore request (data store ${previous.datastoreId})`,
        );
      return summary(previous);
    }
  }
  const live = [...ctx.state.datastores.values()].filter((d) => d.status !== 'DELETED').length;
  if (live >= ctx.settings.quotas.maxDatastores)
    throw throttled(
      `Data store quota exceeded: account ${ctx.accountId} already has ${live} data stores (limit ${ctx.settings.quotas.maxDatastores})`,
    );
  const datastoreId = ctx.newId();
  const now = ctx.nowMs();
  const record: DatastoreRecord = {
    datastoreId,
    datastoreArn: datastoreArn(ctx, datastoreId),
    datastoreEndpoint: datastoreEndpoint(ctx, datastoreId),
    datastoreName: input.DatastoreName,
    status: 'CREATING',
    datastoreTypeVersion: input.DatastoreTypeVersion!,
    createdAtMs: now,
    statusSinceMs: now,
    sseConfiguration: input.SseConfiguration ?? DEFAULT_SSE,
    preloadDataConfig: input.PreloadDataConfig,
    identityProviderConfiguration: input.IdentityProviderConfiguration ?? {
      AuthorizationStrategy: 'AWS_AUTH',
    },
    tags: Object.fromEntries((input.Tags ?? []).map((t) => [t.Key!, t.Value!])),
    clientToken: input.ClientToken,
    requestFingerprint,
  };
  ctx.state.datastores.set(datastoreId, record);
  ctx.state.save();
  ctx.datastoreEvents?.datastoreChanged(record);
  ctx.lifecycle.track(record);
  return summary(record);
}

export function deleteFHIRDatastore(
  ctx: ServiceContext,
  input: OnWire<DeleteFHIRDatastoreRequest>,
): OnWire<DeleteFHIRDatastoreResponse> {
  const record = requireDatastore(ctx, input.DatastoreId!);
  if (record.status !== 'ACTIVE' && record.status !== 'CREATE_FAILED')
    throw new ServiceError(
      'ConflictException',
      `Data store ${record.datastoreId} is ${record.status}; only an ACTIVE or CREATE_FAILED data store can be deleted`,
    );
  const busy = [...ctx.state.jobs.values()].filter(
    (j) => j.datastoreId === record.datastoreId && !isTerminal(j.status),
  );
  if (busy.length > 0)
    throw new ServiceError(
      'ConflictException',
      `Data store ${record.datastoreId} has ${busy.length} unfinished job(s) (${busy.map((j) => j.jobId).join(', ')}); delete it when they end`,
    );
  record.status = 'DELETING';
  record.statusSinceMs = ctx.nowMs();
  ctx.state.save();
  ctx.datastoreEvents?.datastoreChanged(record);
  ctx.lifecycle.track(record);
  return summary(record);
}

export function describeFHIRDatastore(
  ctx: ServiceContext,
  input: OnWire<DescribeFHIRDatastoreRequest>,
): OnWire<DescribeFHIRDatastoreResponse> {
  return { DatastoreProperties: toDatastoreProperties(requireDatastore(ctx, input.DatastoreId!)) };
}

export function listFHIRDatastores(
  ctx: ServiceContext,
  input: OnWire<ListFHIRDatastoresRequest>,
): OnWire<ListFHIRDatastoresResponse> {
  const filter = input.Filter ?? {};
  const matching = [...ctx.state.datastores.values()]
    .filter(
      (d) =>
        (filter.DatastoreName === undefined || d.datastoreName === filter.DatastoreName) &&
        (filter.DatastoreStatus === undefined || d.status === filter.DatastoreStatus) &&
        (filter.CreatedBefore === undefined || d.createdAtMs < toMs(filter.CreatedBefore)) &&
        (filter.CreatedAfter === undefined || d.createdAtMs > toMs(filter.CreatedAfter)),
    )
    .sort((a, b) => a.createdAtMs - b.createdAtMs || (a.datastoreId < b.datastoreId ? -1 : 1));
  const page = paginate(matching, input, JSON.stringify(filter));
  return { DatastorePropertiesList: page.items.map(toDatastoreProperties), NextToken: page.nextToken };
}
