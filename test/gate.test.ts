// The per-data-store gate on a real dev server and a real worker: FIFO grants, exactly one holder
// at a time, and a holder that is cancelled, terminated or gone never blocks the queue.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client, WorkflowHandle } from '@temporalio/client';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createGateActivities } from '../activities/gate';
import { createLocalTestEnv, type LocalTestEnv } from '../worker/dev-server';
import {
  GATE_WORKFLOW_TYPE,
  gateAcquireSignal,
  gateStateQuery,
  gateWorkflowId,
  type GateState,
} from '../workflows/gate-types';
import { finishHoldingSignal, gateHolderWorkflow, type GateEvent } from './fixtures/gate-workflows';
import { quietTemporalRuntime } from './helpers/runtime';
import { waitFor } from './helpers/wait-for';

quietTemporalRuntime();

const CHECK_INTERVAL_MS = 200;
/** Execution timeout of the holder that times out while holding (wide, so it is never hit before "enter"). */
const HOLDER_EXECUTION_TIMEOUT = '8s';

describe('per-data-store gate', () => {
  let local: LocalTestEnv;
  let client: Client;
  let bundle: WorkflowBundleWithSourceMap;
  let worker: Worker;
  let running: Promise<void>;
  const events: GateEvent[] = [];
  const taskQueue = `gate-${process.pid}-${Date.now()}`;
  let seq = 0;

  before(async () => {
    local = await createLocalTestEnv();
    client = local.env.client;
    bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/gate-workflows'),
      logger: new DefaultLogger('WARN'),
    });
    worker = await Worker.create({
      connection: local.env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: {
        ...createGateActivities({ client }),
        recordGateEvent: async (event: GateEvent) => {
          events.push(event);
        },
      },
    });
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await local?.teardown();
  });

  const gateState = (datastoreId: string) =>
    client.workflow.getHandle(gateWorkflowId(datastoreId)).query(gateStateQuery);

  const waiting = (state: GateState) => [state.holder?.label, ...state.queue.map((r) => r.label)];

  /** Starts a holder and waits until the gate has it (held or queued), so the start order is the request order. */
  async function startHolder(
    datastoreId: string,
    label: string,
    maxLeasesPerRun?: number,
    requestRefreshMs?: number,
  ): Promise<WorkflowHandle<typeof gateHolderWorkflow>> {
    seq += 1;
    const handle = await client.workflow.start(gateHolderWorkflow, {
      taskQueue,
      workflowId: `${taskQueue}-${seq}-${label}`,
      args: [
        { datastoreId, label, holderCheckIntervalMs: CHECK_INTERVAL_MS, maxLeasesPerRun, requestRefreshMs },
      ],
    });
    await waitFor(
      () => gateState(datastoreId),
      (s) => waiting(s).includes(label),
      `${label} to reach the gate`,
    );
    return handle;
  }

  const eventsFor = (labels: readonly string[]) =>
    events.filter((e) => labels.includes(e.label)).map((e) => `${e.event}:${e.label}#${e.leaseNumber}`);

  it('grants FIFO, one holder at a time, to 4 queued workflows', async () => {
    const datastoreId = `fifo-${seq}-${Date.now()}`;
    const labels = ['a1', 'a2', 'a3', 'a4'];
    const handles = [];
    for (const label of labels) handles.push(await startHolder(datastoreId, label));
    const state = await gateState(datastoreId);
    assert.deepEqual(waiting(state), labels);
    assert.equal(state.leasesGranted, 1);
    // What the Temporal UI shows as the gate's current details.
    const metadata = await client.workflow
      .getHandle(gateWorkflowId(datastoreId))
      .query<{ currentDetails?: string | null }>('__temporal_workflow_metadata');
    assert.equal(
      metadata.currentDetails,
      [
        `**HealthLake gate** for data store \`${datastoreId}\``,
        '',
        `Holder: \`a1\` (lease #1, workflow \`${handles[0]?.workflowId}\`)`,
        'Queue (3): `a2` → `a3` → `a4`',
        'Leases granted: 1',
      ].join('\n'),
    );

    for (const handle of handles) await handle.signal(finishHoldingSignal);
    const leaseNumbers = await Promise.all(handles.map((h) => h.result()));
    assert.deepEqual(leaseNumbers, [1, 2, 3, 4]);
    assert.deepEqual(eventsFor(labels), [
      'enter:a1#1',
      'exit:a1#1',
      'enter:a2#2',
      'exit:a2#2',
      'enter:a3#3',
      'exit:a3#3',
      'enter:a4#4',
      'exit:a4#4',
    ]);
    const final = await waitFor(
      () => gateState(datastoreId),
      (s) => s.recentLeases.length === 4,
      'all leases to end',
    );
    assert.equal(final.holder, undefined);
    assert.deepEqual(final.queue, []);
    assert.deepEqual(
      final.recentLeases.map((l) => `${l.leaseNumber}:${l.end}`),
      ['1:released', '2:released', '3:released', '4:released'],
    );
  });

  it('passes the lease on when the holder is cancelled, and drops a request cancelled while queued', async () => {
    const datastoreId = `cancel-${seq}-${Date.now()}`;
    const holder = await startHolder(datastoreId, 'b1');
    const second = await startHolder(datastoreId, 'b2');
    const third = await startHolder(datastoreId, 'b3');

    await third.cancel();
    await assert.rejects(third.result(), /cancelled/i);
    await waitFor(
      () => gateState(datastoreId),
      (s) => s.queue.length === 1,
      'b3 to leave the queue',
    );

    await holder.cancel();
    await assert.rejects(holder.result(), /cancelled/i);
    const state = await waitFor(
      () => gateState(datastoreId),
      (s) => s.holder?.label === 'b2',
      'b2 to hold',
    );
    assert.deepEqual(state.queue, []);
    assert.equal(state.holder?.leaseNumber, 2);

    await second.signal(finishHoldingSignal);
    assert.equal(await second.result(), 2);
    assert.deepEqual(eventsFor(['b1', 'b2', 'b3']), ['enter:b1#1', 'enter:b2#2', 'exit:b2#2']);
    const final = await waitFor(
      () => gateState(datastoreId),
      (s) => s.recentLeases.length === 2,
      'both leases to end',
    );
    assert.deepEqual(
      final.recentLeases.map((l) => `${l.holderWorkflowId.split('-').pop()}:${l.end}`),
      ['b1:released', 'b2:released'],
    );
    assert.equal(final.leasesGranted, 2);
  });

  it('takes the lease back from a terminated holder (the holder never releases)', async () => {
    const datastoreId = `terminate-${seq}-${Date.now()}`;
    const holder = await startHolder(datastoreId, 'c1');
    const second = await startHolder(datastoreId, 'c2');
    await waitFor(
      () => Promise.resolve(eventsFor(['c1'])),
      (e) => e.length === 1,
      'c1 to enter',
    );

    await holder.terminate('test: holder dies without releasing');
    const state = await waitFor(
      () => gateState(datastoreId),
      (s) => s.holder?.label === 'c2',
      'c2 to hold',
    );
    assert.deepEqual(
      state.recentLeases.map((l) => `${l.leaseNumber}:${l.end}`),
      ['1:holder-closed'],
    );
    await second.signal(finishHoldingSignal);
    assert.equal(await second.result(), 2);
    assert.deepEqual(eventsFor(['c1', 'c2']), ['enter:c1#1', 'enter:c2#2', 'exit:c2#2']);
  });

  it('takes the lease back from a holder that timed out while holding', async () => {
    const datastoreId = `timeout-${seq}-${Date.now()}`;
    seq += 1;
    await client.workflow.start(gateHolderWorkflow, {
      taskQueue,
      workflowId: `${taskQueue}-${seq}-t1`,
      args: [{ datastoreId, label: 't1', holderCheckIntervalMs: CHECK_INTERVAL_MS }],
      // Long enough for a loaded CI to grant the lease and record "enter" before the timeout hits.
      workflowExecutionTimeout: HOLDER_EXECUTION_TIMEOUT,
    });
    await waitFor(
      () => Promise.resolve(eventsFor(['t1'])),
      (e) => e.length === 1,
      't1 to enter',
    );
    const second = await startHolder(datastoreId, 't2');
    const state = await waitFor(
      () => gateState(datastoreId),
      (s) => s.holder?.label === 't2',
      't2 to hold',
    );
    assert.deepEqual(
      state.recentLeases.map((l) => `${l.leaseNumber}:${l.end}`),
      ['1:holder-closed'],
    );
    await second.signal(finishHoldingSignal);
    assert.equal(await second.result(), 2);
  });

  it('ignores a duplicated acquire and skips a requester whose run is already closed', async () => {
    const datastoreId = `dup-${seq}-${Date.now()}`;
    const holder = await startHolder(datastoreId, 'd1');
    const gone = await client.workflow.start(gateHolderWorkflow, {
      taskQueue: `${taskQueue}-nobody-polls`,
      workflowId: `${taskQueue}-gone`,
      args: [{ datastoreId, label: 'gone', holderCheckIntervalMs: CHECK_INTERVAL_MS }],
    });
    await gone.terminate('test: closed before its turn');
    const request = {
      requestId: 'dup-request-1',
      holderWorkflowId: gone.workflowId,
      holderRunId: gone.firstExecutionRunId,
      label: 'gone',
      requestedAtMs: Date.now(),
    };
    for (let i = 0; i < 2; i += 1) {
      await client.workflow.signalWithStart(GATE_WORKFLOW_TYPE, {
        workflowId: gateWorkflowId(datastoreId),
        taskQueue,
        args: [{ datastoreId }],
        signal: gateAcquireSignal,
        signalArgs: [request],
      });
    }
    const third = await startHolder(datastoreId, 'd3');
    assert.deepEqual(waiting(await gateState(datastoreId)), ['d1', 'gone', 'd3']);

    await holder.signal(finishHoldingSignal);
    assert.equal(await holder.result(), 1);
    const state = await waitFor(
      () => gateState(datastoreId),
      (s) => s.holder?.label === 'd3',
      'd3 to hold',
    );
    assert.deepEqual(
      state.recentLeases.map((l) => `${l.leaseNumber}:${l.end}`),
      ['1:released', '2:holder-unreachable'],
    );
    await third.signal(finishHoldingSignal);
    assert.equal(await third.result(), 3);
  });

  it('carries holder and queue across continue-as-new (2 leases per run)', async () => {
    const datastoreId = `can-${seq}-${Date.now()}`;
    const labels = ['e1', 'e2', 'e3'];
    const handles = [];
    for (const label of labels) handles.push(await startHolder(datastoreId, label, 2));
    for (const handle of handles) await handle.signal(finishHoldingSignal);
    assert.deepEqual(await Promise.all(handles.map((h) => h.result())), [1, 2, 3]);
    assert.deepEqual(eventsFor(labels), [
      'enter:e1#1',
      'exit:e1#1',
      'enter:e2#2',
      'exit:e2#2',
      'enter:e3#3',
      'exit:e3#3',
    ]);
    const final = await waitFor(
      () => gateState(datastoreId),
      (s) => s.recentLeases.length === 3,
      'all leases to end',
    );
    assert.equal(final.leasesGranted, 3);
    const runs = [];
    for await (const execution of client.workflow.list({
      query: `WorkflowId = '${gateWorkflowId(datastoreId)}'`,
    })) {
      runs.push(execution.status.name);
    }
    assert.deepEqual(runs.sort(), ['CONTINUED_AS_NEW', 'RUNNING']);
  });

  it('a queued holder re-sends its request and restarts a gate that was terminated under it', async () => {
    const datastoreId = `restart-${seq}-${Date.now()}`;
    const holder = await startHolder(datastoreId, 'f1');
    const second = await startHolder(datastoreId, 'f2', undefined, 300);
    await waitFor(
      () => eventsFor(['f1']),
      (e) => e.length === 1,
      'f1 to enter',
    );
    // A disaster takes out the holder and the gate together (a gate terminated under a live holder
    // would lose that holder's lease record: don't terminate gates).
    await holder.terminate('test: holder lost');
    await client.workflow.getHandle(gateWorkflowId(datastoreId)).terminate('test: gate lost');
    const state = await waitFor(
      () => gateState(datastoreId),
      (s) => s.holder?.label === 'f2',
      'f2 to hold a new gate',
    );
    assert.equal(state.holder?.leaseNumber, 1);
    assert.deepEqual(state.queue, []);
    await second.signal(finishHoldingSignal);
    assert.equal(await second.result(), 1);
    assert.deepEqual(eventsFor(['f1', 'f2']), ['enter:f1#1', 'enter:f2#1', 'exit:f2#1']);
  });

  it('replays every gate run of this file (grants, watcher, continue-as-new) without nondeterminism', async () => {
    let replayed = 0;
    for await (const execution of client.workflow.list({
      query: `WorkflowType = 'healthLakeGateWorkflow'`,
    })) {
      const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: bundle }, history, execution.workflowId);
      replayed += 1;
    }
    // One gate per data store in this file (fifo, cancel, terminate, timeout, dup, can, restart)
    // plus the extra run of can and the terminated run of restart.
    assert.equal(replayed, 9);
  });
});
