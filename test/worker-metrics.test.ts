// The deployable worker's Prometheus endpoint (HEALTHLAKE_METRICS_BIND) after a real import on the
// emulator: the Temporal runtime's metrics and the project's own, with exact values checked against
// what the emulator counted (Describe/List calls and throttles) and what the import returned.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFhirImport } from '../client';
import { freePort } from '../worker/dev-server';
import { startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import { waitFor } from './helpers/wait-for';
import { WorkerProcess } from './helpers/worker-process';

let stack: ImportTestStack;
before(async () => {
  stack = await startImportTestStack();
});
after(async () => {
  await stack?.stop();
});

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parses Prometheus' text format (enough of it: `name{a="b",...} value` lines). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Sum of a metric's samples whose labels include `filter`. */
function total(samples: Sample[], name: string, filter: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(filter).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

describe('worker/main.ts metrics', () => {
  it('serves Temporal runtime metrics and the import, API-call and waiting metrics with exact values', async () => {
    const datastoreId = await stack.newDatastore('metrics');
    const data = await stack.land('metrics', 3);
    const taskQueue = uniqueName('metrics');
    const bind = `127.0.0.1:${await freePort()}`;
    const worker = new WorkerProcess({
      ...stack.workerProcessEnv(taskQueue),
      HEALTHLAKE_METRICS_BIND: bind,
      HEALTHLAKE_METRICS_WAITING_INTERVAL_MS: '200',
    });
    const scrape = async (): Promise<Sample[]> => {
      const response = await fetch(`http://${bind}/metrics`);
      assert.equal(response.status, 200);
      return parseMetrics(await response.text());
    };
    try {
      const ready = await worker.line('healthlake worker ready:');
      assert.ok(ready.endsWith(` metrics http://${bind}/metrics`), ready);
      stack.local.emulator.resetCounters();
      // Every Describe call is throttled until the emulator has counted two throttles (a fixed rate
      // below 1 left a run with no throttle at all): the worker's counts must match the emulator's.
      stack.local.emulator.faults.set('DescribeFHIRImportJob', { throttleRate: 1 });
      const handle = await startFhirImport(stack.temporal.env.client, {
        callerKey: taskQueue,
        taskQueue,
        input: stack.input(datastoreId, 'metrics'),
      });
      // Held IN_PROGRESS: the import is waiting, and the gauge (a visibility count) says so.
      const job = await waitFor(
        () => stack.local.emulator.jobs.list().find((j) => j.datastoreId === datastoreId),
        (j) => j?.status === 'IN_PROGRESS',
        'the job to go IN_PROGRESS',
        { stepMs: 10 },
      );
      assert.equal(stack.local.emulator.jobs.hang(job!.jobId), true);
      await waitFor(
        () => stack.local.emulator.counters().DescribeFHIRImportJob?.throttled ?? 0,
        (throttled) => throttled >= 2,
        'two throttled Describe calls',
      );
      stack.local.emulator.faults.clear();
      await waitFor(scrape, (s) => total(s, 'healthlake_imports_waiting') === 1, 'imports waiting = 1');
      assert.equal(stack.local.emulator.jobs.release(job!.jobId), true);
      const result = await handle.result();
      assert.equal(result.status, 'COMPLETED');

      const samples = await waitFor(
        scrape,
        (s) =>
          total(s, 'healthlake_imports_completed_total') === 1 &&
          total(s, 'healthlake_imports_waiting') === 0,
        'the completion and waiting = 0 in the metrics',
      );
      const counters = stack.local.emulator.counters();
      const api = (operation: string, outcome: string) =>
        total(samples, 'healthlake_api_requests_total', { operation, outcome });
      const describe = counters.DescribeFHIRImportJob!;
      assert.ok(describe.throttled >= 2, `the emulator throttled ${describe.throttled} Describe calls`);
      assert.deepEqual(
        {
          describeOk: api('DescribeFHIRImportJob', 'ok'),
          describeThrottled: api('DescribeFHIRImportJob', 'throttled'),
          describeError: api('DescribeFHIRImportJob', 'error'),
          list: total(samples, 'healthlake_api_requests_total', { operation: 'ListFHIRImportJobs' }),
          start: api('StartFHIRImportJob', 'ok'),
          started: total(samples, 'healthlake_imports_started_total', {
            workflowType: 'fhirImportWorkflow',
          }),
          completed: total(samples, 'healthlake_imports_completed_total', { status: 'COMPLETED' }),
          failed: total(samples, 'healthlake_imports_failed_total'),
          imported: total(samples, 'healthlake_import_resources_total', { outcome: 'imported' }),
          failedResources: total(samples, 'healthlake_import_resources_total', { outcome: 'failed' }),
        },
        {
          describeOk: describe.calls - describe.throttled,
          describeThrottled: describe.throttled,
          describeError: 0,
          list: counters.ListFHIRImportJobs?.calls ?? 0,
          start: counters.StartFHIRImportJob!.calls,
          started: 1,
          completed: 1,
          failed: 0,
          imported: data.counts.resources,
          failedResources: 0,
        },
      );
      assert.equal(counters.StartFHIRImportJob!.calls, 1);
      // The Temporal runtime's own metrics are on the same endpoint.
      assert.ok(
        total(samples, 'temporal_workflow_completed_total', { workflow_type: 'fhirImportWorkflow' }) >= 1,
        'temporal_workflow_completed_total for fhirImportWorkflow',
      );

      // A second import whose job FAILS: counted once as failed, by its failure type.
      await stack.land('metrics-failed', 1);
      const failing = await startFhirImport(stack.temporal.env.client, {
        callerKey: `${taskQueue}-failed`,
        taskQueue,
        input: stack.input(datastoreId, 'metrics-failed'),
      });
      const failingJob = await waitFor(
        () =>
          stack.local.emulator.jobs
            .list()
            .find((j) => j.datastoreId === datastoreId && j.jobId !== job!.jobId),
        (j) => j?.status === 'IN_PROGRESS',
        'the second job to go IN_PROGRESS',
        { stepMs: 10 },
      );
      assert.equal(stack.local.emulator.jobs.hang(failingJob!.jobId), true);
      assert.equal(stack.local.emulator.jobs.fail(failingJob!.jobId, 'metrics test failure'), true);
      await assert.rejects(failing.result(), (err: unknown) => {
        const cause = (err as { cause?: { type?: string } }).cause;
        return cause?.type === 'HealthLakeImportFailed';
      });
      const after = await waitFor(
        scrape,
        // The waiting gauge follows a visibility count refreshed on an interval: wait for both.
        (s) =>
          total(s, 'healthlake_imports_failed_total') === 1 && total(s, 'healthlake_imports_waiting') === 0,
        'the failure in the metrics and no import waiting',
      );
      assert.deepEqual(
        {
          started: total(after, 'healthlake_imports_started_total'),
          completed: total(after, 'healthlake_imports_completed_total'),
          failed: total(after, 'healthlake_imports_failed_total', { type: 'HealthLakeImportFailed' }),
          waiting: total(after, 'healthlake_imports_waiting'),
        },
        { started: 2, completed: 1, failed: 1, waiting: 0 },
      );
    } finally {
      stack.local.emulator.faults.clear();
      const exit = await worker.stop();
      assert.equal(exit.code, 0, exit.stderr);
    }
  });
  it('HEALTHLAKE_COALESCE_IMPORT_POLLS and HEALTHLAKE_CALLS_PER_SECOND: the waits poll by List, no Describe', async () => {
    const datastoreId = await stack.newDatastore('metrics-coalesced');
    const data = await stack.land('metrics-coalesced', 2);
    const taskQueue = uniqueName('metrics-coalesced');
    const bind = `127.0.0.1:${await freePort()}`;
    const worker = new WorkerProcess({
      ...stack.workerProcessEnv(taskQueue),
      HEALTHLAKE_METRICS_BIND: bind,
      HEALTHLAKE_COALESCE_IMPORT_POLLS: 'true',
      HEALTHLAKE_CALLS_PER_SECOND: '50',
    });
    try {
      await worker.line('healthlake worker ready:');
      stack.local.emulator.resetCounters();
      const handle = await startFhirImport(stack.temporal.env.client, {
        callerKey: taskQueue,
        taskQueue,
        input: stack.input(datastoreId, 'metrics-coalesced'),
      });
      const result = await handle.result();
      assert.equal(result.status, 'COMPLETED');
      assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
      const counters = stack.local.emulator.counters();
      // The start's one List by job name, then every poll of the wait a List of the data store.
      assert.equal(counters.DescribeFHIRImportJob, undefined);
      assert.equal(counters.StartFHIRImportJob!.calls, 1);
      assert.ok(counters.ListFHIRImportJobs!.calls >= 2, `${counters.ListFHIRImportJobs!.calls} Lists`);
      const samples = parseMetrics(await (await fetch(`http://${bind}/metrics`)).text());
      assert.equal(
        total(samples, 'healthlake_api_requests_total', { operation: 'ListFHIRImportJobs', outcome: 'ok' }),
        counters.ListFHIRImportJobs!.calls,
      );
    } finally {
      const exit = await worker.stop();
      assert.equal(exit.code, 0, exit.stderr);
    }
  });
});
