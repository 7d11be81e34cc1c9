// The operation table: each HealthLake operation's handler and the quota bucket it draws from.
import type { QuotaSettings } from '../settings';
import type { OperationName } from '../shapes';
import type { ServiceContext } from './context';
import {
  createFHIRDatastore,
  deleteFHIRDatastore,
  describeFHIRDatastore,
  listFHIRDatastores,
} from './datastores';
import {
  describeFHIRExportJob,
  describeFHIRImportJob,
  listFHIRExportJobs,
  listFHIRImportJobs,
  startFHIRExportJob,
  startFHIRImportJob,
} from './jobs';
import { listTagsForResource, tagResource, untagResource } from './tags';

type RateQuota = 'describeList' | 'datastoreCreateDelete' | 'startJob' | 'tagging';

export interface Operation {
  // Inputs are validated against OPERATION_INPUTS before a handler runs.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly handle: (ctx: ServiceContext, input: any) => unknown;
  readonly quota: RateQuota;
  /** Whether the quota bucket is per operation (Describe/List: 10 TPS each) or shared by the group. */
  readonly quotaKey: string;
}

const op = (handle: Operation['handle'], quota: RateQuota, quotaKey?: string): Operation => ({
  handle,
  quota,
  quotaKey: quotaKey ?? quota,
});

export const OPERATIONS: Record<OperationName, Operation> = {
  CreateFHIRDatastore: op(createFHIRDatastore, 'datastoreCreateDelete'),
  DeleteFHIRDatastore: op(deleteFHIRDatastore, 'datastoreCreateDelete'),
  DescribeFHIRDatastore: op(describeFHIRDatastore, 'describeList', 'DescribeFHIRDatastore'),
  ListFHIRDatastores: op(listFHIRDatastores, 'describeList', 'ListFHIRDatastores'),
  StartFHIRImportJob: op(startFHIRImportJob, 'startJob'),
  DescribeFHIRImportJob: op(describeFHIRImportJob, 'describeList', 'DescribeFHIRImportJob'),
  ListFHIRImportJobs: op(listFHIRImportJobs, 'describeList', 'ListFHIRImportJobs'),
  StartFHIRExportJob: op(startFHIRExportJob, 'startJob'),
  DescribeFHIRExportJob: op(describeFHIRExportJob, 'describeList', 'DescribeFHIRExportJob'),
  ListFHIRExportJobs: op(listFHIRExportJobs, 'describeList', 'ListFHIRExportJobs'),
  ListTagsForResource: op(listTagsForResource, 'tagging'),
  TagResource: op(tagResource, 'tagging'),
  UntagResource: op(untagResource, 'tagging'),
};

export const rateLimitFor = (quotas: QuotaSettings, operation: Operation) => quotas[operation.quota];
