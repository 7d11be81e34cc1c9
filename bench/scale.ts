// `npm run bench -- scale --n N [--workers 2] [--coalesce on|off] [--quick] [--seed N] [--out FILE]`
//
// The real start path at scale: N imports started with `startFhirImport` (client), run by W worker
// PROCESSES built with `createHealthLakeWorker`, against a fake HealthLake over HTTP
// (bench/scale-healthlake.ts) with ONE account bucket of 10 calls/s shared by Start, Describe and
// List across processes, 10 data stores with one running import each (the rest QUEUED, FIFO),
// progress moving every 30 s, known totals (manifest totals in the input). Not time-scaled: the
// production poll policy runs as is; jobs are short (seeded 20-60 s IN_PROGRESS) so N imports fit
// in one run, which makes QUEUED time (N / 10 jobs ahead on each store) dominate the wall time.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { startFhirImport } from '../client/index';
import { createLocalTestEnv } from '../worker/dev-server';
import { importSearchAttributes } from '../workflows/types';
import { mean, percentile, seededRandom } from './jobs';
import type { ScaleWorkerConfig } from './scale-worker';
import { startScaleHealthLake } from './scale-healthlake';

const EventType = temporal.api.enums.v1.EventType;
const DATA_STORES = 10;
const ACCOUNT_CALLS_PER_SECOND = 10;

export interface ScaleOptions {
  readonly imports: number;
  readonly workers: number;
  /** Serve the waits' polls with per-data-store Lists (`coalesceImportPolls`). */
  readonly coalesce: boolean;
  /** Each worker process makes at most 0.95 × 10 / W calls per second (`healthLakeCallsPerSecond`). */
  readonly callBudget: boolean;
  readonly seed: number;
  readonly quick: boolean;
  readonly out: string;
  /** IN_PROGRESS length range of the fake jobs, seconds. @default [20, 60] */
  readonly runSeconds?: readonly [number, number];
  /**
   * Hold the data stores until all imports have started (`holdStoresUntilStarts`): all of them
   * wait at once, as thousands of long imports do in production. @default false
   */
  readonly allWaiting?: boolean;
  /** Give up on imports still open after this long, ms. @default 45 min */
  readonly timeLimitMs?: number;
}

function storeId(i: number): string {
  return `bench${String(i).padStart(2, '0')}`.padEnd(32, '0');
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await fn(items[index]!, index);
      }
    }),
  );
  return results;
}

export async function runScaleBench(options: ScaleOptions): Promise<unknown> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const n = options.imports;
  const [minRun, maxRun] = options.runSeconds ?? [20, 60];
  const random = seededRandom(options.seed);
  const runMs = Array.from({ length: n }, () => Math.round((minRun + random() * (maxRun - minRun)) * 1000));
  const submittedMs = Array.from({ length: n }, () => Math.round(2_000 + random() * 3_000));
  const fake = await startScaleHealthLake({
    runMs: (i) => runMs[i] ?? 30_000,
    submittedMs: (i) => submittedMs[i] ?? 3_000,
    ...(options.allWaiting ? { holdStoresUntilStarts: n } : {}),
  });
  const local = await createLocalTestEnv({ searchAttributes: importSearchAttributes, fairness: true });
  const address = local.server?.address;
  if (!address) throw new Error('the scale bench needs the Temporal CLI dev server (npm run setup)');
  const children: ChildProcess[] = [];
  const taskQueue = `bench-scale-${Date.now()}`;
  const benchStart = Date.now();
  try {
    const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
    const workflowCodePath = join(dir, 'workflows.js');
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows'),
      logger: new DefaultLogger('ERROR'),
    });
    writeFileSync(workflowCodePath, code);
    const config: ScaleWorkerConfig = {
      address,
      taskQueue,
      endpoint: fake.url,
      workflowCodePath,
      // Off: one dispatch is one AWS call (the default 8 of the account's 10). On: a dispatch is
      // answered from a shared List, so the queue may dispatch more and the Lists are bounded by
      // maxAgeMs: stores × workers / maxAge = 10 × 2 / 4 s = 5 Lists/s at most.
      apiActivitiesPerSecond: options.coalesce ? 40 : 8,
      coalesce: options.coalesce ? { windowMs: 200, maxAgeMs: 4_000 } : false,
      ...(options.callBudget ? { callsPerSecond: (0.95 * ACCOUNT_CALLS_PER_SECOND) / options.workers } : {}),
    };
    const done: Array<Promise<{ peakRssMb: number; coalescer: unknown; callBudget: unknown }>> = [];
    for (let w = 0; w < options.workers; w++) {
      const child = fork(resolve(__dirname, 'scale-worker.ts'), [JSON.stringify(config)], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      children.push(child);
      const ready = new Promise<void>((ok, fail) => {
        child.once('exit', (code) => fail(new Error(`scale worker ${w} exited ${code} before it was ready`)));
        child.on('message', (m: { kind?: string }) => {
          if (m.kind === 'ready') ok();
        });
      });
      done.push(
        new Promise((ok) =>
          child.on(
            'message',
            (m: { kind?: string; peakRssMb: number; coalescer: unknown; callBudget: unknown }) => {
              if (m.kind === 'done') ok(m);
            },
          ),
        ),
      );
      await ready;
    }
    console.error(
      `scale: ${options.workers} workers ready; starting ${n} imports on ${DATA_STORES} data stores`,
    );
    const client = local.env.client;
    const startedAt = Date.now();
    const handles = await pool(
      Array.from({ length: n }, (_, i) => i),
      50,
      async (i) => {
        const inputS3Uri = `s3://bench-in/imp-${i}/`;
        const totalBytes = Math.round((runMs[i]! / 1000) * 10 * 1_000_000);
        return startFhirImport(client, {
          callerKey: `imp-${i}`,
          taskQueue,
          input: {
            datastoreId: storeId(i % DATA_STORES),
            inputS3Uri,
            outputS3Uri: `s3://bench-out/imp-${i}`,
            kmsKeyId: 'alias/bench',
            dataAccessRoleArn: 'arn:aws:iam::123456789012:role/bench',
            jobName: `imp-${i}`,
            manifest: {
              s3Uri: inputS3Uri,
              totalObjects: 1,
              totalBytes,
              totalLines: 1,
              manifestS3Uri: `s3://bench-manifests/imp-${i}.json`,
              manifestSha256: '0'.repeat(64),
            },
          },
        });
      },
    );
    console.error(
      `scale: ${n} imports started by the client in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
    );
    const timeLimitMs = options.timeLimitMs ?? 45 * 60_000;
    const deadline = Date.now() + timeLimitMs;
    const outcomes = Array.from({ length: n }, (): 'completed' | 'failed' | 'open' => 'open');
    // Wait on the server's visibility, not on N long-polling result() calls: 2,000 of those at once
    // made the client report hundreds of imports settled that were still running.
    const running = `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`;
    let open = n;
    const progress = setInterval(() => {
      const c = fake.counters;
      console.error(
        `scale: ${n - open}/${n} closed after ${Math.round((Date.now() - startedAt) / 1000)} s; calls describe ${c.describe} list ${c.list} start ${c.start} throttled ${c.throttled}`,
      );
    }, 30_000);
    while (Date.now() < deadline) {
      await new Promise((ok) => setTimeout(ok, 5_000));
      open = (await client.workflow.count(running)).count;
      if (open === 0) break;
    }
    clearInterval(progress);
    const wallMs = Date.now() - startedAt;
    // Per import: detection latency (close - job end), history, billed actions (no heartbeats: not in history).
    const rows = await pool(handles, 10, async (handle, i) => {
      const job = fake.jobOf(i);
      const description = await handle.describe();
      const status = description.status.name;
      outcomes[i] = status === 'COMPLETED' ? 'completed' : status === 'RUNNING' ? 'open' : 'failed';
      if (outcomes[i] === 'open') {
        await handle.terminate('bench time limit').catch(() => undefined);
        return undefined;
      }
      const events = (await handle.fetchHistory()).events ?? [];
      const count = (type: temporal.api.enums.v1.EventType) =>
        events.filter((e) => e.eventType === type).length;
      const attempts = events
        .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
        .reduce((sum, e) => sum + (e.activityTaskStartedEventAttributes?.attempt ?? 1), 0);
      const localActivities = events.filter(
        (e) =>
          e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED &&
          e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
      ).length;
      return {
        completed: outcomes[i] === 'completed',
        detectionLatencyMs: job ? (description.closeTime?.getTime() ?? 0) - job.endMs : undefined,
        describes: job?.describes ?? 0,
        historyEvents: events.length,
        billedActions:
          1 +
          attempts +
          count(EventType.EVENT_TYPE_TIMER_STARTED) +
          count(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) +
          localActivities,
      };
    });
    for (const child of children) child.send('stop');
    const reports = await Promise.all(
      done.map((p) =>
        Promise.race([p, new Promise<undefined>((ok) => setTimeout(() => ok(undefined), 30_000))]),
      ),
    );
    const finished = rows.filter((r): r is NonNullable<typeof r> => r !== undefined);
    const completedRows = finished.filter((r) => r.completed);
    const c = fake.counters;
    const calls = c.describe + c.list + c.start + c.throttled;
    const detection = completedRows.map((r) => r.detectionLatencyMs ?? 0);
    const result = {
      scenario: 'scale',
      date: new Date().toISOString(),
      imports: n,
      completed: outcomes.filter((o) => o === 'completed').length,
      failed: outcomes.filter((o) => o === 'failed').length,
      open: outcomes.filter((o) => o === 'open').length,
      workers: options.workers,
      dataStores: DATA_STORES,
      coalesce: options.coalesce,
      callsPerSecondPerWorker: config.callsPerSecond ?? null,
      apiActivitiesPerSecond: config.apiActivitiesPerSecond,
      jobRunSeconds: [minRun, maxRun],
      allWaiting: options.allWaiting ?? false,
      wallMs,
      calls: { ...c, total: calls },
      throttledFraction: calls === 0 ? 0 : Math.round((c.throttled / calls) * 10_000) / 10_000,
      describeCallsPerJob: {
        p50: percentile(
          finished.map((r) => r.describes),
          50,
        ),
        mean: mean(finished.map((r) => r.describes)),
      },
      listCallsPerJob: { mean: Math.round((c.list / n) * 100) / 100 },
      startCallsPerJob: { mean: Math.round((c.start / n) * 100) / 100 },
      detectionLatencyMs: { p50: percentile(detection, 50), p90: percentile(detection, 90) },
      historyEventsPerJob: { max: Math.max(0, ...finished.map((r) => r.historyEvents)) },
      billedActionsPerJob: {
        p50: percentile(
          finished.map((r) => r.billedActions),
          50,
        ),
        note: 'start + activity attempts + timers + upserts + local activities; heartbeats not counted',
      },
      workerPeakRssMb: reports.map((r) => r?.peakRssMb ?? null),
      coalescer: reports.map((r) => r?.coalescer ?? null),
      callBudget: reports.map((r) => r?.callBudget ?? null),
      benchWallMs: Date.now() - benchStart,
    };
    mkdirSync(dirname(resolve(options.out)), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
    console.log(`written: ${options.out}`);
    return result;
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await local.teardown();
    await fake.stop();
  }
}
