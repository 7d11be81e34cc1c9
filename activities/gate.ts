// Activities behind the per-data-store gate: signal-with-start the gate for an acquirer, and watch
// a lease holder until its run closes (how the gate learns of a holder that died without releasing).
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  GATE_WORKFLOW_TYPE,
  gateAcquireSignal,
  gateWorkflowId,
  type GateRequest,
} from '../workflows/gate-types';
import type { GateSettings, HealthLakeGateInput } from '../workflows/gate';

export interface GateActivitiesOptions {
  /** Temporal client to reach the gate and holders. @default the worker's client (`Context.current().client`) */
  readonly client?: Client;
}

export interface RequestGateInput {
  readonly datastoreId: string;
  /** Task queue the gate runs on when this request starts it. */
  readonly gateTaskQueue: string;
  readonly request: GateRequest;
  /** Used only when this request starts the gate. */
  readonly settings?: GateSettings;
}

export interface WatchGateHolderInput {
  readonly workflowId: string;
  /** The run to watch. @default the latest run (following continue-as-new) */
  readonly runId?: string;
  /** Time between two checks of the holder's status, in ms. */
  readonly checkIntervalMs: number;
}

/** How the holder's run ended, as the gate's watcher saw it. */
export interface WatchGateHolderResult {
  /** Temporal's status name (`COMPLETED`, `FAILED`, `CANCELLED`, `TERMINATED`, `TIMED_OUT`, `CONTINUED_AS_NEW`), or `NOT_FOUND`. */
  readonly status: string;
  readonly checks: number;
}

/**
 * Builds the gate's activities. Register them on the worker of the gate's task queue (the
 * acquiring workflow's queue unless `gateTaskQueue` says otherwise).
 */
export function createGateActivities(options: GateActivitiesOptions = {}) {
  const client = () => options.client ?? Context.current().client;

  return {
    /** Enqueues `request` at the data store's gate, starting the gate if it is not running. */
    async requestHealthLakeGate(input: RequestGateInput): Promise<{ gateWorkflowId: string }> {
      const workflowId = gateWorkflowId(input.datastoreId);
      const gateInput: HealthLakeGateInput = { datastoreId: input.datastoreId, settings: input.settings };
      await client().workflow.signalWithStart(GATE_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: input.gateTaskQueue,
        args: [gateInput],
        signal: gateAcquireSignal,
        signalArgs: [input.request],
        staticSummary: `HealthLake gate for data store ${input.datastoreId}`,
        staticDetails: [
          `**HealthLake gate** for data store \`${input.datastoreId}\``,
          '',
          'Lets one import at a time run on the data store (HealthLake queues the rest);',
          'the holder and the queue are in Current Details.',
        ].join('\n'),
      });
      return { gateWorkflowId: workflowId };
    },

    /**
     * Resolves when the holder's run is no longer running; heartbeats on every check, so the
     * gate's cancellation (the holder released) stops it at the next check.
     */
    async watchGateHolder(input: WatchGateHolderInput): Promise<WatchGateHolderResult> {
      const context = Context.current();
      const handle = client().workflow.getHandle(input.workflowId, input.runId);
      for (let checks = 1; ; checks += 1) {
        let status: string;
        try {
          status = (await handle.describe()).status.name;
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return { status: 'NOT_FOUND', checks };
          throw err;
        }
        if (status !== 'RUNNING') return { status, checks };
        context.heartbeat({ checks });
        await context.sleep(input.checkIntervalMs);
      }
    },
  };
}
