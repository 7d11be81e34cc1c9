// Runs an import with a landing manifest and hands its result on: the per-data-store gate around the
// import child, then downstream workflows started as abandoned children and external workflows
// signalled, all with deterministic ids so a retried or replayed pipeline starts nothing twice.
// Also the signal-with-start entry point for landing workflows in other services or languages.
import {
  ApplicationFailure,
  allHandlersFinished,
  ChildWorkflowCancellationType,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createPipelineActivities } from '../activities/pipeline';
import { withHealthLakeGate } from './gate';
import type { LandingManifestOrRef } from './manifest';
import {
  FHIR_IMPORT_FINISHED_SIGNAL,
  fhirLandingCompleteSignal,
  type DownstreamStart,
  type FhirImportHandoff,
  type FhirImportHandover,
  type PipelineGateOption,
  type PipelineHandoffOptions,
} from './pipeline-types';
import {
  fhirImportWorkflowId,
  importStaticSummary,
  type FhirImportInput,
  type FhirImportResult,
} from './types';

export * from './pipeline-types';

/** Workflow type name of the import (workflows/import.ts). */
export const FHIR_IMPORT_WORKFLOW_TYPE = 'fhirImportWorkflow';

type ImportWorkflow = (input: FhirImportInput) => Promise<FhirImportResult>;
type PipelineActivities = ReturnType<typeof createPipelineActivities>;

/** Input of {@link runFhirImportWithManifest}. */
export interface RunFhirImportOptions extends PipelineHandoffOptions {
  /** The import, with the manifest of what was landed under `inputS3Uri`. */
  readonly import: FhirImportInput & { readonly manifest: LandingManifestOrRef };
  /** @default fhirImportWorkflowId(<calling workflow's id>) */
  readonly importWorkflowId?: string;
  /** @default {} (the gate is on, on the calling workflow's task queue) */
  readonly gate?: PipelineGateOption;
  /** Task queue of the import workflow. @default the calling workflow's task queue */
  readonly importTaskQueue?: string;
}

/** What {@link runFhirImportWithManifest} returns. */
export interface FhirPipelineOutcome {
  readonly importWorkflowId: string;
  readonly importResult: FhirImportResult;
  readonly downstream: readonly DownstreamStart[];
  /** Workflow ids signalled with the result. */
  readonly notified: readonly string[];
}

function withSlash(uri: string): string {
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/**
 * Starts `fhirImportWorkflow` as a child (once per `importWorkflowId`), returning its result; if an
 * earlier attempt of the caller already ran it, attaches to that import instead of starting another.
 */
async function importOnce(
  input: FhirImportInput,
  importWorkflowId: string,
  taskQueue: string | undefined,
): Promise<FhirImportResult> {
  try {
    return await executeChild<ImportWorkflow>(FHIR_IMPORT_WORKFLOW_TYPE, {
      workflowId: importWorkflowId,
      taskQueue,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      // A terminated pipeline must not take the import (and its running job) down with it: a rerun
      // of the pipeline attaches to the same import.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // Nor does a cancelled one: HealthLake cannot cancel an import, so the import keeps following
      // its job to the end, and the gate (guarded by the import) keeps the data store until then.
      cancellationType: ChildWorkflowCancellationType.ABANDON,
      // The same summary and details as an import started by startFhirImport.
      ...importStaticSummary(input),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    log.info('import already started by an earlier attempt; attaching', { importWorkflowId });
    const { awaitWorkflowResult } = proxyActivities<PipelineActivities>({
      startToCloseTimeout: '30 days',
      heartbeatTimeout: '1 minute',
      retry: { initialInterval: '1s', maximumInterval: '1 minute' },
    });
    return (await awaitWorkflowResult({ workflowId: importWorkflowId })) as FhirImportResult;
  }
}

/** Failure type the workflow SDK gives a signal to a workflow that does not exist or has closed. */
export const EXTERNAL_WORKFLOW_NOT_FOUND = 'ExternalWorkflowExecutionNotFound';

/** Whether a failed `signal` to an external workflow failed because that workflow is not there. */
export function isExternalWorkflowNotFound(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === EXTERNAL_WORKFLOW_NOT_FOUND;
}

/**
 * Hands an import's result on: starts each `then` workflow as an abandoned child (it outlives the
 * caller) with a deterministic id — found already started means an earlier attempt did it — and
 * signals each `notify` workflow. Signals are delivered at least once: a pipeline run again after a
 * termination signals again, so receivers dedupe by `handoffId`. A notify target that does not
 * exist (or has closed) is logged and skipped: the import has succeeded and a missing listener must
 * not undo that; any other signal failure fails the caller.
 */
export async function handOffFhirImportResult(
  handoff: FhirImportHandoff,
  options: PipelineHandoffOptions,
): Promise<{ downstream: DownstreamStart[]; notified: string[] }> {
  const downstream: DownstreamStart[] = [];
  for (const target of options.then ?? []) {
    let outcome: DownstreamStart['outcome'] = 'started';
    try {
      await startChild(target.workflowType, {
        workflowId: target.workflowId,
        taskQueue: target.taskQueue,
        args: [{ ...handoff, context: target.context } satisfies FhirImportHandoff],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: `after FHIR import ${handoff.importResult.jobId}`,
        staticDetails: [
          `Started by pipeline \`${handoff.pipelineWorkflowId}\` when its HealthLake import ended.`,
          '',
          `- import workflow: \`${handoff.importWorkflowId}\``,
          `- job: \`${handoff.importResult.jobId}\` into data store \`${handoff.importResult.datastoreId}\``,
          `- job status: ${handoff.importResult.status}`,
        ].join('\n'),
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      outcome = 'already-started';
    }
    downstream.push({ workflowId: target.workflowId, workflowType: target.workflowType, outcome });
  }
  const notified: string[] = [];
  for (const target of options.notify ?? []) {
    try {
      await getExternalWorkflowHandle(target.workflowId, target.runId).signal(
        target.signalName ?? FHIR_IMPORT_FINISHED_SIGNAL,
        handoff,
      );
      notified.push(target.workflowId);
    } catch (err) {
      // Only a listener that is gone is skipped; anything else (cancellation, a limit) fails loudly.
      if (!isExternalWorkflowNotFound(err)) throw err;
      log.warn('notify target does not exist or has closed; skipped', { workflowId: target.workflowId });
    }
  }
  return { downstream, notified };
}

/**
 * Runs the import for a batch that is already landed, and hands the result on. Call it from your
 * own landing workflow with the manifest you built: it waits its turn at the data store's gate,
 * runs `fhirImportWorkflow` as a child with a deterministic id, then starts `then` and signals
 * `notify`. Cancelling (or terminating) the caller stops its wait but not the import child: HealthLake
 * cannot cancel an import job, so the import follows it to the end, and the gate stays taken until
 * the import closes. Cancel the import workflow itself to stop following the job.
 *
 * @example
 * // in your workflow, after landing:
 * const outcome = await runFhirImportWithManifest({
 *   import: { datastoreId, inputS3Uri: manifest.s3Uri, outputS3Uri, kmsKeyId, dataAccessRoleArn, manifest },
 *   then: [{ workflowType: 'refreshAnalytics', workflowId: `refresh-${batchId}` }],
 * });
 */
export async function runFhirImportWithManifest(options: RunFhirImportOptions): Promise<FhirPipelineOutcome> {
  const { inputS3Uri, manifest } = options.import;
  if (withSlash(manifest.s3Uri) !== withSlash(inputS3Uri)) {
    throw ApplicationFailure.nonRetryable(
      `import.manifest.s3Uri "${manifest.s3Uri}" must name the prefix the import reads, import.inputS3Uri "${inputS3Uri}"`,
      'InvalidFhirPipelineInput',
    );
  }
  const info = workflowInfo();
  const importWorkflowId = options.importWorkflowId ?? fhirImportWorkflowId(info.workflowId);
  const gate = options.gate ?? {};
  const runImport = () => importOnce(options.import, importWorkflowId, options.importTaskQueue);
  const importResult =
    gate === false
      ? await runImport()
      : await withHealthLakeGate(
          {
            datastoreId: options.import.datastoreId,
            label: importWorkflowId,
            // The import is abandoned on parent close: if this pipeline is terminated or cancelled
            // while the import's job runs, the data store stays taken until the import closes.
            guardWorkflowId: importWorkflowId,
            gateTaskQueue: gate.taskQueue,
            gateSettings: gate.settings,
          },
          runImport,
        );
  const handoff: FhirImportHandoff = {
    handoffId: `${importWorkflowId}/${importResult.jobId}`,
    importWorkflowId,
    pipelineWorkflowId: info.workflowId,
    importResult,
    manifest: options.import.manifest,
  };
  const { downstream, notified } = await handOffFhirImportResult(handoff, options);
  return { importWorkflowId, importResult, downstream, notified };
}

/**
 * The signal-with-start entry point for a landing workflow we did not write (another service or
 * language): started by `fhirLandingComplete` (see `fhirHandoverSignalWithStartOptions`), it runs
 * {@link runFhirImportWithManifest} with the first batch it receives; later deliveries are ignored.
 */
export async function fhirImportHandoverWorkflow(
  _input: Record<string, never> = {},
): Promise<FhirPipelineOutcome> {
  let handover: FhirImportHandover | undefined;
  let duplicates = 0;
  setHandler(fhirLandingCompleteSignal, (batch) => {
    if (handover === undefined) handover = batch;
    else duplicates += 1;
  });
  setCurrentDetails('Waiting for the landed batch (signal `fhirLandingComplete`)');
  await condition(() => handover !== undefined);
  const batch = handover;
  if (!batch?.import.manifest) {
    throw ApplicationFailure.nonRetryable(
      'handover.import.manifest is required: the import reconciles against it',
      'InvalidFhirImportHandover',
    );
  }
  setCurrentDetails(
    `Importing ${batch.import.manifest.totalObjects} objects (${batch.import.manifest.totalLines} lines) into data store \`${batch.import.datastoreId}\``,
  );
  const outcome = await runFhirImportWithManifest(batch);
  if (duplicates > 0) log.info('ignored duplicate hand-overs', { duplicates });
  await condition(allHandlersFinished);
  return outcome;
}
