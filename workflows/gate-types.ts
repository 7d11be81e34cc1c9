// The per-data-store gate's messages, state and ids: shared by the gate workflow, the workflow-side
// acquire/release helpers, the activity that signals-with-start the gate, and clients.
import { defineQuery, defineSignal } from '@temporalio/workflow';

/** Workflow type name of the gate, for clients and activities that start it by name. */
export const GATE_WORKFLOW_TYPE = 'healthLakeGateWorkflow';

/** The gate's deterministic workflow id for one data store: one gate per data store. */
export function gateWorkflowId(datastoreId: string): string {
  return `healthlake-gate/${datastoreId}`;
}

/** One request for the gate, sent by (or on behalf of) the workflow that wants to hold it. */
export interface GateRequest {
  /**
   * Unique per acquisition and deterministic for the requester (our helper uses
   * `<workflowId>/<runId>/<n>`), so a duplicated acquire signal is recognised and ignored.
   */
  readonly requestId: string;
  /** The workflow that will hold the lease; the gate signals it and watches it. */
  readonly holderWorkflowId: string;
  /** The holder's run: the lease belongs to this run only. */
  readonly holderRunId: string;
  /** Short label shown in the UI next to the holder (no PHI: ids and names only). @default holderWorkflowId */
  readonly label?: string;
  /** When the request was made, in epoch ms (workflow time of the requester). */
  readonly requestedAtMs: number;
  /**
   * A workflow the lease also covers (for the pipeline: its abandoned import child, whose HealthLake
   * job may outlive the holder). The lease ends only once this workflow has closed too, whether the
   * holder released it or closed. @default undefined (the lease follows the holder only)
   */
  readonly guardWorkflowId?: string;
}

/** A grant: the gate's lease to one holder, ended by a release or by the holder closing. */
export interface GateLease {
  readonly requestId: string;
  readonly holderWorkflowId: string;
  readonly holderRunId: string;
  readonly label: string;
  /** Monotonic lease number across the gate's runs (1, 2, 3, ...). */
  readonly leaseNumber: number;
  readonly grantedAtMs: number;
  /** The gate that granted it, so the holder can release without knowing the data store. */
  readonly gateWorkflowId: string;
  /** {@link GateRequest.guardWorkflowId}, when the request named one. */
  readonly guardWorkflowId?: string;
}

/** Why a lease ended: the holder released it, or the gate saw the holder closed without releasing. */
export const GateLeaseEnd = {
  released: 'released',
  holderClosed: 'holder-closed',
  holderUnreachable: 'holder-unreachable',
} as const;
export type GateLeaseEnd = (typeof GateLeaseEnd)[keyof typeof GateLeaseEnd];

/** A finished lease, kept (bounded) for the UI and tests. */
export interface GateLeaseRecord {
  readonly requestId: string;
  readonly holderWorkflowId: string;
  readonly leaseNumber: number;
  readonly end: GateLeaseEnd;
}

/** What the gate's query and UI details show. */
export interface GateState {
  readonly datastoreId: string;
  readonly holder?: GateLease;
  /**
   * True while the holder has released or closed but the lease waits for its
   * {@link GateLease.guardWorkflowId} (e.g. an import whose job still runs) to close.
   */
  readonly awaitingGuard: boolean;
  readonly queue: readonly GateRequest[];
  /** Leases granted since the gate first started (carried across continue-as-new). */
  readonly leasesGranted: number;
  /** The last finished leases, newest last. */
  readonly recentLeases: readonly GateLeaseRecord[];
}

/** Ask for the lease (or be queued FIFO). Duplicate requestIds are ignored. */
export const gateAcquireSignal = defineSignal<[GateRequest]>('healthLakeGateAcquire');
/** Release a held lease, or withdraw a queued request. Unknown requestIds are remembered. */
export const gateReleaseSignal = defineSignal<[{ readonly requestId: string }]>('healthLakeGateRelease');
/** Sent by the gate to the holder when its request is granted. */
export const gateGrantedSignal = defineSignal<[GateLease]>('healthLakeGateGranted');
/** The gate's holder, queue and recent leases. */
export const gateStateQuery = defineQuery<GateState>('healthLakeGateState');
