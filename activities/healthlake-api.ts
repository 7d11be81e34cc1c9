// The narrow slice of HealthLake the import activities call. The SDK's aggregated `HealthLake`
// class satisfies it as is; `healthLakeImportApi(client)` adapts a bare `HealthLakeClient`; a test
// fake implements three methods.
import {
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

/** Per-call options: the activity's cancellation signal aborts the HTTP request. */
export interface HealthLakeCallOptions {
  readonly abortSignal?: AbortSignal;
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
