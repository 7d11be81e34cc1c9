// The per-data-store gate: HealthLake runs one import per data store, so pipelines that target the
// same data store queue here, FIFO, through one long-lived workflow per data store. A grant is a
// lease tied to the holder's run: it ends when the holder releases it or when the gate sees the
// holder closed (crashed code, cancelled, terminated, timed out), so a grant is never lost and
// never doubled. Queue and holder show in the Temporal UI (current details and a query).
import {
  ActivityCancellationType,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createGateActivities } from '../activities/gate';
import {
  gateAcquireSignal,
  gateGrantedSignal,
  gateReleaseSignal,
  gateStateQuery,
  gateWorkflowId,
  GateLeaseEnd,
  type GateLease,
  type GateLeaseRecord,
  type GateRequest,
  type GateState,
} from './gate-types';

export * from './gate-types';

type GateActivities = ReturnType<typeof createGateActivities>;

/** How the gate behaves; set by whichever acquirer starts it. */
export interface GateSettings {
  /** How often the gate checks that the holder's run is still open, in ms. @default 10_000 */
  readonly holderCheckIntervalMs?: number;
  /** The gate ends after this long with no holder and an empty queue, in ms. @default 600_000 */
  readonly idleTimeoutMs?: number;
  /** Continue-as-new after this many leases (or earlier, when the server suggests it). @default 100 */
  readonly maxLeasesPerRun?: number;
}

/** What a gate run carries over to the next through continue-as-new. */
export interface GateCarriedState {
  readonly holder?: GateLease;
  /** The holder has released or closed; the lease waits for its guard workflow to close. */
  readonly awaitingGuard?: boolean;
  /** The holder released (rather than closed): the lease's end will read `released`. */
  readonly holderReleased?: boolean;
  readonly queue: readonly GateRequest[];
  readonly leasesGranted: number;
  readonly recentLeases: readonly GateLeaseRecord[];
  /** Request ids already served or withdrawn, so late duplicates are ignored (bounded). */
  readonly doneRequestIds: readonly string[];
}

export interface HealthLakeGateInput {
  readonly datastoreId: string;
  readonly settings?: GateSettings;
  /** Set by the gate itself when it continues as new. */
  readonly carried?: GateCarriedState;
}

/** What the gate returns when it ends idle. */
export interface HealthLakeGateResult {
  readonly datastoreId: string;
  readonly leasesGranted: number;
}

export const DEFAULT_GATE_SETTINGS = {
  holderCheckIntervalMs: 10_000,
  idleTimeoutMs: 600_000,
  maxLeasesPerRun: 100,
} as const satisfies Required<GateSettings>;

/** How many finished leases and served request ids the gate remembers. */
const RECENT_LEASES_KEPT = 20;
const DONE_REQUEST_IDS_KEPT = 200;

/** Workflow time in epoch ms: the sandbox's Date is the current workflow task's time, deterministic. */
function workflowNowMs(): number {
  return new Date().getTime();
}

function keepLast<T>(items: readonly T[], count: number): T[] {
  return items.slice(Math.max(0, items.length - count));
}

/** Markdown for the UI's "current details": holder and queue, ids and labels only. */
export function describeGate(state: GateState): string {
  const lines = [`**HealthLake gate** for data store \`${state.datastoreId}\``, ''];
  lines.push(
    state.holder
      ? `Holder: \`${state.holder.label}\` (lease #${state.holder.leaseNumber}, workflow \`${state.holder.holderWorkflowId}\`)`
      : 'Holder: none',
  );
  if (state.holder?.guardWorkflowId !== undefined && state.awaitingGuard) {
    lines.push(`Held until \`${state.holder.guardWorkflowId}\` closes (the holder has released or closed)`);
  }
  lines.push(
    `Queue (${state.queue.length}): ${state.queue.map((r) => `\`${r.label ?? r.holderWorkflowId}\``).join(' → ') || 'empty'}`,
  );
  lines.push(`Leases granted: ${state.leasesGranted}`);
  return lines.join('\n');
}

/**
 * One gate per data store (id {@link gateWorkflowId}). Start it with signal-with-start of
 * {@link gateAcquireSignal} (the `requestHealthLakeGate` activity does that); it grants FIFO,
 * watches each holder through the `watchGateHolder` activity, and ends after `idleTimeoutMs`
 * with nothing to do.
 */
export async function healthLakeGateWorkflow(input: HealthLakeGateInput): Promise<HealthLakeGateResult> {
  const settings = { ...DEFAULT_GATE_SETTINGS, ...input.settings };
  const carried = input.carried;
  const queue: GateRequest[] = [...(carried?.queue ?? [])];
  let holder: GateLease | undefined = carried?.holder;
  let awaitingGuard = carried?.awaitingGuard ?? false;
  let holderReleased = carried?.holderReleased ?? false;
  let leasesGranted = carried?.leasesGranted ?? 0;
  let recentLeases: GateLeaseRecord[] = [...(carried?.recentLeases ?? [])];
  let doneRequestIds: string[] = [...(carried?.doneRequestIds ?? [])];
  let leasesThisRun = 0;
  let watchedLease: number | undefined;
  let watchScope: CancellationScope | undefined;

  const acts = proxyActivities<GateActivities>({
    startToCloseTimeout: '1 day',
    heartbeatTimeout: Math.max(3 * settings.holderCheckIntervalMs, 5_000),
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    retry: { initialInterval: '1s', maximumInterval: '30s' },
  });

  const state = (): GateState => ({
    datastoreId: input.datastoreId,
    holder,
    awaitingGuard,
    queue: [...queue],
    leasesGranted,
    recentLeases: [...recentLeases],
  });
  const refreshDetails = () => setCurrentDetails(describeGate(state()));

  const endLease = (lease: GateLease, end: GateLeaseEnd) => {
    if (holder?.leaseNumber !== lease.leaseNumber) return;
    holder = undefined;
    awaitingGuard = false;
    holderReleased = false;
    recentLeases = keepLast(
      [
        ...recentLeases,
        {
          requestId: lease.requestId,
          holderWorkflowId: lease.holderWorkflowId,
          leaseNumber: lease.leaseNumber,
          end,
        },
      ],
      RECENT_LEASES_KEPT,
    );
    doneRequestIds = keepLast([...doneRequestIds, lease.requestId], DONE_REQUEST_IDS_KEPT);
    watchScope?.cancel();
    watchScope = undefined;
    watchedLease = undefined;
    log.info('gate lease ended', { leaseNumber: lease.leaseNumber, end });
    refreshDetails();
  };

  setHandler(gateAcquireSignal, (request) => {
    const known =
      holder?.requestId === request.requestId ||
      queue.some((r) => r.requestId === request.requestId) ||
      doneRequestIds.includes(request.requestId);
    if (known) return;
    queue.push(request);
    refreshDetails();
  });

  setHandler(gateReleaseSignal, ({ requestId }) => {
    if (holder?.requestId === requestId) {
      if (holder.guardWorkflowId === undefined) {
        endLease(holder, GateLeaseEnd.released);
      } else if (!holderReleased) {
        // Held on until the guard (the import) closes: watch it instead of the holder.
        holderReleased = true;
        awaitingGuard = true;
        watchScope?.cancel();
        watch(holder);
        refreshDetails();
      }
      return;
    }
    const queued = queue.findIndex((r) => r.requestId === requestId);
    if (queued >= 0) queue.splice(queued, 1);
    // Remember it either way: an acquire still in flight for a withdrawn request must not be granted.
    doneRequestIds = keepLast([...doneRequestIds, requestId], DONE_REQUEST_IDS_KEPT);
    refreshDetails();
  });

  setHandler(gateStateQuery, state);

  // Watches the holder's run until it closes, then the guard workflow (if any) until it closes too.
  // After a release (or after continue-as-new while awaiting the guard) only the guard is watched.
  function watch(lease: GateLease): void {
    watchedLease = lease.leaseNumber;
    const scope = new CancellationScope();
    watchScope = scope;
    scope
      .run(async () => {
        if (!awaitingGuard) {
          await acts.watchGateHolder({
            workflowId: lease.holderWorkflowId,
            runId: lease.holderRunId,
            checkIntervalMs: settings.holderCheckIntervalMs,
          });
        }
        if (lease.guardWorkflowId !== undefined) {
          awaitingGuard = true;
          refreshDetails();
          await acts.watchGateHolder({
            workflowId: lease.guardWorkflowId,
            checkIntervalMs: settings.holderCheckIntervalMs,
          });
        }
      })
      .then(
        () => endLease(lease, holderReleased ? GateLeaseEnd.released : GateLeaseEnd.holderClosed),
        (err: unknown) => {
          if (isCancellation(err)) return;
          // The watcher retries transient errors itself; a final failure means we cannot see the
          // holder at all, and a lease nobody can observe must not block the data store forever.
          log.warn('gate could not watch holder; releasing', { leaseNumber: lease.leaseNumber });
          endLease(lease, GateLeaseEnd.holderUnreachable);
        },
      );
  }

  const grant = async (request: GateRequest): Promise<void> => {
    leasesGranted += 1;
    leasesThisRun += 1;
    const lease: GateLease = {
      requestId: request.requestId,
      holderWorkflowId: request.holderWorkflowId,
      holderRunId: request.holderRunId,
      label: request.label ?? request.holderWorkflowId,
      leaseNumber: leasesGranted,
      grantedAtMs: workflowNowMs(),
      gateWorkflowId: workflowInfo().workflowId,
      ...(request.guardWorkflowId === undefined ? {} : { guardWorkflowId: request.guardWorkflowId }),
    };
    holder = lease;
    refreshDetails();
    try {
      await getExternalWorkflowHandle(lease.holderWorkflowId, lease.holderRunId).signal(
        gateGrantedSignal,
        lease,
      );
    } catch (err) {
      if (isCancellation(err)) throw err;
      // The holder's run is gone (it closed while queued): hand the gate to the next in line.
      endLease(lease, GateLeaseEnd.holderUnreachable);
    }
  };

  refreshDetails();
  for (;;) {
    if (!holder) {
      const next = queue.shift();
      if (next) {
        await grant(next);
        continue;
      }
    }
    if (holder && watchedLease !== holder.leaseNumber) watch(holder);

    const info = workflowInfo();
    if (leasesThisRun >= settings.maxLeasesPerRun || info.continueAsNewSuggested) {
      await condition(allHandlersFinished);
      watchScope?.cancel();
      const next: HealthLakeGateInput = {
        datastoreId: input.datastoreId,
        settings: input.settings,
        carried: {
          holder,
          awaitingGuard,
          holderReleased,
          queue,
          leasesGranted,
          recentLeases,
          doneRequestIds,
        },
      };
      await continueAsNew<typeof healthLakeGateWorkflow>(next);
    }

    if (!holder) {
      await condition(() => queue.length > 0, settings.idleTimeoutMs, {
        summary: 'idle: closes if no import asks for the data store',
      });
      if (queue.length === 0) break;
      continue;
    }
    const current = holder.leaseNumber;
    await condition(() => holder?.leaseNumber !== current || workflowInfo().continueAsNewSuggested);
  }
  await condition(allHandlersFinished);
  return { datastoreId: input.datastoreId, leasesGranted };
}

/** Where the acquire/release helpers find the gate and how they start it. */
export interface AcquireGateOptions {
  /** The data store the lease is for: one gate per data store. */
  readonly datastoreId: string;
  /** Shown in the gate's UI next to this holder. @default the calling workflow's id */
  readonly label?: string;
  /**
   * Task queue of the gate workflow and of the activity that signals-with-start it; a worker on it
   * must register the gate activities. @default the calling workflow's task queue
   */
  readonly gateTaskQueue?: string;
  /** Gate settings used when this request starts the gate. @default DEFAULT_GATE_SETTINGS */
  readonly gateSettings?: GateSettings;
  /**
   * A workflow the lease also covers: the gate holds the lease until it has closed too, even after
   * the caller released or closed (see {@link GateRequest.guardWorkflowId}). @default undefined
   */
  readonly guardWorkflowId?: string;
  /**
   * While queued, re-send the (idempotent) request this often, so a gate that ended or was
   * terminated is started again, in ms. @default 300_000
   */
  readonly requestRefreshMs?: number;
}

/** Default of {@link AcquireGateOptions.requestRefreshMs}. */
export const DEFAULT_REQUEST_REFRESH_MS = 300_000;

let requestSequence = 0;
const grantedLeases = new Map<string, GateLease>();
let grantHandlerInstalled = false;

/**
 * Waits, FIFO, for the data store's gate and returns the lease. Call from workflow code; pair with
 * {@link releaseHealthLakeGate} in a `finally`, or use {@link withHealthLakeGate}, which does.
 * If the caller is cancelled while queued, its request is withdrawn and the cancellation rethrown.
 * A caller that closes without releasing (terminated, timed out) loses the lease to the gate's watcher.
 *
 * @example
 * const lease = await acquireHealthLakeGate({ datastoreId });
 * try { await executeChild(fhirImportWorkflow, { args: [input] }); }
 * finally { await releaseHealthLakeGate(lease); }
 */
export async function acquireHealthLakeGate(options: AcquireGateOptions): Promise<GateLease> {
  if (!grantHandlerInstalled) {
    grantHandlerInstalled = true;
    setHandler(gateGrantedSignal, (lease) => {
      grantedLeases.set(lease.requestId, lease);
    });
  }
  const info = workflowInfo();
  requestSequence += 1;
  const request: GateRequest = {
    requestId: `${info.workflowId}/${info.runId}/${requestSequence}`,
    holderWorkflowId: info.workflowId,
    holderRunId: info.runId,
    label: options.label ?? info.workflowId,
    requestedAtMs: workflowNowMs(),
    ...(options.guardWorkflowId === undefined ? {} : { guardWorkflowId: options.guardWorkflowId }),
  };
  const gateId = gateWorkflowId(options.datastoreId);
  const taskQueue = options.gateTaskQueue ?? info.taskQueue;
  const acts = proxyActivities<GateActivities>({
    taskQueue,
    startToCloseTimeout: '30s',
    retry: { initialInterval: '500ms', maximumInterval: '10s' },
  });
  const refreshMs = options.requestRefreshMs ?? DEFAULT_REQUEST_REFRESH_MS;
  try {
    // Re-sending the same request is harmless (the gate ignores known request ids) and heals a gate
    // that ended (idle, or terminated by an operator) just as our request arrived.
    do {
      await acts.requestHealthLakeGate({
        datastoreId: options.datastoreId,
        gateTaskQueue: taskQueue,
        request,
        settings: options.gateSettings,
      });
    } while (
      !(await condition(() => grantedLeases.has(request.requestId), refreshMs, {
        summary: 'waiting for the data store gate to grant the lease',
      }))
    );
  } catch (err) {
    // Withdraw (or release, if the grant crossed our cancellation) so the queue moves on.
    await releaseHealthLakeGate({ gateWorkflowId: gateId, requestId: request.requestId });
    throw err;
  }
  const lease = grantedLeases.get(request.requestId);
  if (!lease)
    throw ApplicationFailure.nonRetryable(`gate lease ${request.requestId} vanished`, 'GateLeaseLost');
  return lease;
}

/** Releases a lease (safe to call twice; safe while cancelled). */
export async function releaseHealthLakeGate(
  lease: Pick<GateLease, 'gateWorkflowId' | 'requestId'>,
): Promise<void> {
  grantedLeases.delete(lease.requestId);
  try {
    await CancellationScope.nonCancellable(() =>
      getExternalWorkflowHandle(lease.gateWorkflowId).signal(gateReleaseSignal, {
        requestId: lease.requestId,
      }),
    );
  } catch (err) {
    // A gate that is no longer running holds no lease of ours: nothing to release.
    log.warn('gate release not delivered', { gateWorkflowId: lease.gateWorkflowId, error: String(err) });
  }
}

/** Runs `fn` while holding the data store's gate; releases on success, failure and cancellation. */
export async function withHealthLakeGate<T>(
  options: AcquireGateOptions,
  fn: (lease: GateLease) => Promise<T>,
): Promise<T> {
  const lease = await acquireHealthLakeGate(options);
  try {
    return await fn(lease);
  } finally {
    await releaseHealthLakeGate(lease);
  }
}
