// The narrow slice of HealthLake the import activities call. The SDK's aggregated `HealthLake`
// class satisfies it as is; `healthLakeImportApi(client)` adapts a bare `HealthLakeClient`; a test
// fake implements three methods.
import {
  CreateFHIRDatastoreCommand,
  DeleteFHIRDatastoreCommand,
  DescribeFHIRDatastoreCommand,
  DescribeFHIRExportJobCommand,
  ListFHIRDatastoresCommand,
  ListFHIRExportJobsCommand,
  StartFHIRExportJobCommand,
  type CreateFHIRDatastoreCommandInput,
  type CreateFHIRDatastoreCommandOutput,
  type DeleteFHIRDatastoreCommandInput,
  type DeleteFHIRDatastoreCommandOutput,
  type DescribeFHIRDatastoreCommandInput,
  type DescribeFHIRDatastoreCommandOutput,
  type DescribeFHIRExportJobCommandInput,
  type DescribeFHIRExportJobCommandOutput,
  type ListFHIRDatastoresCommandInput,
  type ListFHIRDatastoresCommandOutput,
  type ListFHIRExportJobsCommandInput,
  type ListFHIRExportJobsCommandOutput,
  type StartFHIRExportJobCommandInput,
  type StartFHIRExportJobCommandOutput,
  DescribeFHIRImportJobCommand,
  ListFHIRImportJobsCommand,
  StartFHIRImportJobCommand,
  type DescribeFHIRImportJobCommandInput,
  type DescribeFHIRImportJobCommandOutput,
  type HealthLakeClient,
  type ListFHIRImportJobsCommandInput,
  type ListFHIRImportJobsCommandOutput,
  type StartFHIRImportJobCommandInput,
  type StartFHIRImportJobCommandOutput,
} from '@aws-sdk/client-healthlake';
import type { CallLane } from './call-budget';

/** Per-call options: the activity's cancellation signal aborts the HTTP request. */
export interface HealthLakeCallOptions {
  readonly abortSignal?: AbortSignal;
  /**
   * The call budget's lane (`withCallBudget`, activities/call-budget.ts), where the operation alone
   * does not say it: the start path's List is `'bulk'`. Stripped before the SDK sees the options.
   * @default 'bulk' for Start/Create/Delete, 'wait' for Describe/List
   */
  readonly budgetLane?: CallLane;
}

/** The HealthLake operations the import activities use. */
export interface HealthLakeImportApi {
  startFHIRImportJob(
    input: StartFHIRImportJobCommandInput,
    options?: HealthLakeCallOptions,
  ): Promise<Pick<StartFHIRImportJobCommandOutput, 'JobId' | 'JobStatus' | 'DatastoreId'>>;
  describeFHIRImportJob(
    input: DescribeFHIRImportJobCommandInput,
    options?: HealthLakeCallOptions,
  ): Promise<Pick<DescribeFHIRImportJobCommandOutput, 'ImportJobProperties'>>;
  listFHIRImportJobs(
    input: ListFHIRImportJobsCommandInput,
    options?: HealthLakeCallOptions,
  ): Promise<Pick<ListFHIRImportJobsCommandOutput, 'ImportJobPropertiesList' | 'NextToken'>>;
}

/** Adapts a bare `HealthLakeClient` (command style) to {@link HealthLakeImportApi}. */
export function healthLakeImportApi(client: HealthLakeClient): HealthLakeImportApi {
  return {
    startFHIRImportJob: (input, options) => client.send(new StartFHIRImportJobCommand(input), options),
    describeFHIRImportJob: (input, options) => client.send(new DescribeFHIRImportJobCommand(input), options),
    listFHIRImportJobs: (input, options) => client.send(new ListFHIRImportJobsCommand(input), options),
  };
}

/** The HealthLake operations the export activities use. */
export interface HealthLakeExportApi {
  startFHIRExportJob(
    input: StartFHIRExportJobCommandInput,
    options?: HealthLakeCallOptions,
  ): Promise<Pick<StartFHIRExportJobCommandOutput, 'JobId' | 'JobStatus' | 'DatastoreId'>>;
  describeFHIRExportJob(
    input: DescribeFHIRExportJobCommandInput,
    options?: HealthLakeCallOptions,
  ): Promise<Pick<DescribeFHIRExportJobCommandOutput, 'ExportJobProperties'>>;
  listFHIRExportJobs(
    input: ListFHIRExportJobsCommandInput,
    options?: HealthLakeCallOptions,
  ): Promise<Pick<ListFHIRExportJobsCommandOutput, 'ExportJobPropertiesList' | 'NextToken'>>;
}

/** The HealthLake operations the data store activities use (they also list import and export jobs). */
export interface HealthLakeDatastoreApi {
  createFHIRDatastore(
    input: CreateFHIRDatastoreCommandInput,
    options?: HealthLakeCallOptions,
  ): Promise<
    Pick<
      CreateFHIRDatastoreCommandOutput,
      'DatastoreId' | 'DatastoreArn' | 'DatastoreStatus' | 'DatastoreEndpoint'
    >
  >;
  describeFHIRDatastore(
    input: DescribeFHIRDatastoreCommandInput,
    options?: HealthLakeCallOptions,
  ): Promise<Pick<DescribeFHIRDatastoreCommandOutput, 'DatastoreProperties'>>;
  listFHIRDatastores(
    input: ListFHIRDatastoresCommandInput,
    options?: HealthLakeCallOptions,
  ): Promise<Pick<ListFHIRDatastoresCommandOutput, 'DatastorePropertiesList' | 'NextToken'>>;
  deleteFHIRDatastore(
    input: DeleteFHIRDatastoreCommandInput,
    options?: HealthLakeCallOptions,
  ): Promise<Pick<DeleteFHIRDatastoreCommandOutput, 'DatastoreId' | 'DatastoreStatus'>>;
}

/** Every HealthLake operation this library calls. The SDK's aggregated `HealthLake` class fits. */
export type HealthLakeApi = HealthLakeImportApi & HealthLakeExportApi & HealthLakeDatastoreApi;

/** True when `api` also has the export and data store operations (a narrow import-only fake has not). */
export function isFullHealthLakeApi(api: HealthLakeImportApi): api is HealthLakeApi {
  const methods = api as unknown as Record<string, unknown>;
  return (
    typeof methods.startFHIRExportJob === 'function' &&
    typeof methods.describeFHIRExportJob === 'function' &&
    typeof methods.listFHIRExportJobs === 'function' &&
    typeof methods.createFHIRDatastore === 'function' &&
    typeof methods.describeFHIRDatastore === 'function' &&
    typeof methods.listFHIRDatastores === 'function' &&
    typeof methods.deleteFHIRDatastore === 'function'
  );
}

/** Adapts a bare `HealthLakeClient` (command style) to {@link HealthLakeApi}. */
export function healthLakeApi(client: HealthLakeClient): HealthLakeApi {
  return {
    ...healthLakeImportApi(client),
    startFHIRExportJob: (input, options) => client.send(new StartFHIRExportJobCommand(input), options),
    describeFHIRExportJob: (input, options) => client.send(new DescribeFHIRExportJobCommand(input), options),
    listFHIRExportJobs: (input, options) => client.send(new ListFHIRExportJobsCommand(input), options),
    createFHIRDatastore: (input, options) => client.send(new CreateFHIRDatastoreCommand(input), options),
    describeFHIRDatastore: (input, options) => client.send(new DescribeFHIRDatastoreCommand(input), options),
    listFHIRDatastores: (input, options) => client.send(new ListFHIRDatastoresCommand(input), options),
    deleteFHIRDatastore: (input, options) => client.send(new DeleteFHIRDatastoreCommand(input), options),
  };
}
