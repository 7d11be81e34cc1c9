// The pipeline's public contract: how an import's result is handed on (downstream workflows started
// with it, external workflows signalled with it), and the signal-with-start hand-over that lets a
// landing workflow in another service or language pass a landed batch to the import.
import { defineSignal } from '@temporalio/workflow';
import type { LandingManifestOrRef } from './manifest';
import type { FhirImportInput, FhirImportResult } from './types';
import type { GateSettings } from './gate';

/** A workflow to start when the import ends, with a {@link FhirImportHandoff} as its one argument. */
export interface DownstreamWorkflow {
  /** Workflow type name, e.g. `'verifyAndExportWorkflow'`. */
  readonly workflowType: string;
  /**
   * Workflow id: deterministic (derive it from your batch key), so a retried or replayed pipeline
   * finds it already started instead of starting a second one.
   */
  readonly workflowId: string;
  /** @default the pipeline's task queue */
  readonly taskQueue?: string;
  /** Any JSON you want the downstream to receive (ids and settings, never PHI). @default undefined */
  readonly context?: unknown;
}

/** An external workflow to signal with the {@link FhirImportHandoff} when the import ends. */
export interface NotifyTarget {
  readonly workflowId: string;
  /** @default the current run */
  readonly runId?: string;
  /** @default {@link FHIR_IMPORT_FINISHED_SIGNAL} */
  readonly signalName?: string;
}

/** What downstream workflows and signalled workflows receive. */
export interface FhirImportHandoff {
  /** `<importWorkflowId>/<jobId>`: the same for every delivery of one import, for idempotent receivers. */
  readonly handoffId: string;
  readonly importWorkflowId: string;
  /** The workflow that ran the import (landing, hand-over or your own). */
  readonly pipelineWorkflowId: string;
  readonly importResult: FhirImportResult;
  /** A reference to the manifest in S3 (read objects with `readLandingManifest`), or inline. */
  readonly manifest?: LandingManifestOrRef;
  /** `DownstreamWorkflow.context`, for downstream workflows. */
  readonly context?: unknown;
}

/** How a downstream start went: started now, or found already started by an earlier attempt. */
export interface DownstreamStart {
  readonly workflowId: string;
  readonly workflowType: string;
  readonly outcome: 'started' | 'already-started';
}

/** What to do with the result when the import ends. */
export interface PipelineHandoffOptions {
  /** Started as abandoned children (they outlive the pipeline), each once. @default [] */
  readonly then?: readonly DownstreamWorkflow[];
  /**
   * Signalled with the result, at least once each (a pipeline run again after a termination signals
   * again): dedupe by {@link FhirImportHandoff.handoffId}. A target that does not exist is skipped.
   * @default []
   */
  readonly notify?: readonly NotifyTarget[];
}

/** The per-data-store gate around the import: `false` to run without it. */
export type PipelineGateOption =
  | false
  | {
      /** Task queue of the gate workflow and its activities. @default the pipeline's task queue */
      readonly taskQueue?: string;
      /** Used when this pipeline starts the gate. @default DEFAULT_GATE_SETTINGS */
      readonly settings?: GateSettings;
    };

/** The default signal name a notified workflow receives. */
export const FHIR_IMPORT_FINISHED_SIGNAL = 'fhirImportFinished';
/** `setHandler(fhirImportFinishedSignal, (handoff) => ...)` in a workflow you list in `notify`. */
export const fhirImportFinishedSignal = defineSignal<[FhirImportHandoff]>(FHIR_IMPORT_FINISHED_SIGNAL);

/** A landed batch handed over by a landing workflow we did not write. */
export interface FhirImportHandover extends PipelineHandoffOptions {
  /** The import; `manifest` describes what was landed under `inputS3Uri`. */
  readonly import: FhirImportInput & { readonly manifest: LandingManifestOrRef };
  /** @default fhirImportWorkflowId(<hand-over workflow id>) */
  readonly importWorkflowId?: string;
  /** @default {} (gate on) */
  readonly gate?: PipelineGateOption;
}

/** Workflow type of the hand-over entry point. */
export const FHIR_IMPORT_HANDOVER_WORKFLOW_TYPE = 'fhirImportHandoverWorkflow';
/** Signal name the hand-over entry point waits for. */
export const FHIR_LANDING_COMPLETE_SIGNAL = 'fhirLandingComplete';
export const fhirLandingCompleteSignal = defineSignal<[FhirImportHandover]>(FHIR_LANDING_COMPLETE_SIGNAL);

/** The hand-over workflow's deterministic id for one landed batch. */
export function fhirImportHandoverWorkflowId(batchKey: string): string {
  return `fhir-handover-${batchKey}`;
}

/**
 * Options for `client.workflow.signalWithStart` that hand a landed batch to the import: starts the
 * hand-over workflow for `batchKey` unless it runs already, and delivers the batch. Sending it twice
 * is harmless (the second delivery is ignored). From another language, send the same thing:
 * workflow type {@link FHIR_IMPORT_HANDOVER_WORKFLOW_TYPE}, id `fhir-handover-<batchKey>`, input
 * `{}`, signal {@link FHIR_LANDING_COMPLETE_SIGNAL} with the {@link FhirImportHandover} as JSON.
 *
 * @example
 * await client.workflow.signalWithStart(FHIR_IMPORT_HANDOVER_WORKFLOW_TYPE,
 *   fhirHandoverSignalWithStartOptions({ batchKey: 'batch-42', taskQueue: 'healthlake', handover }));
 */
export function fhirHandoverSignalWithStartOptions(options: {
  readonly batchKey: string;
  readonly taskQueue: string;
  readonly handover: FhirImportHandover;
}) {
  const { import: importInput } = options.handover;
  return {
    workflowId: fhirImportHandoverWorkflowId(options.batchKey),
    taskQueue: options.taskQueue,
    args: [{}] as [Record<string, never>],
    signal: fhirLandingCompleteSignal,
    signalArgs: [options.handover] as [FhirImportHandover],
    ...pipelineStaticSummary(
      `hand-over of ${importInput.manifest.totalObjects} landed files`,
      importInput,
      options.handover,
    ),
  };
}

/**
 * What the UI shows for a pipeline (landing or hand-over) before it has run a line of code: its
 * first step, the import it runs and what it hands on. Names no object keys or local paths (the
 * input S3 prefix and data store are the import's own, as in `importStaticSummary`).
 */
export function pipelineStaticSummary(
  firstStep: string,
  importInput: Pick<FhirImportInput, 'datastoreId' | 'inputS3Uri' | 'outputS3Uri'>,
  options: PipelineHandoffOptions & { readonly gate?: PipelineGateOption },
): { staticSummary: string; staticDetails: string } {
  const staticSummary =
    `HealthLake pipeline: ${firstStep}, then import into ${importInput.datastoreId}`.slice(0, 200);
  const list = (items: readonly string[]) => (items.length === 0 ? 'none' : items.join(', '));
  const staticDetails = [
    `**HealthLake pipeline** into data store \`${importInput.datastoreId}\``,
    '',
    `- first: ${firstStep}`,
    `- import: \`${importInput.inputS3Uri}\` → results in \`${importInput.outputS3Uri}\``,
    `- data store gate: ${options.gate === false ? 'off' : 'on'}`,
    `- then start: ${list((options.then ?? []).map((t) => `${t.workflowType} \`${t.workflowId}\``))}`,
    `- then signal: ${list((options.notify ?? []).map((t) => `\`${t.workflowId}\``))}`,
  ].join('\n');
  return { staticSummary, staticDetails };
}
