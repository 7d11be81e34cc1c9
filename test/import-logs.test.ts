// An import logs one start line and one end line through the workflow logger, with ids and counts
// and nothing else (no S3 URIs, file names or resource content).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectedSinks } from '@temporalio/worker';
import type { LoggerSinksInternal } from '@temporalio/workflow/lib/logs';
import { startFhirImport } from '../client';
import { startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';

interface Captured {
  readonly level: string;
  readonly message: string;
  readonly attrs: Record<string, unknown>;
}

describe('import log lines', () => {
  let stack: ImportTestStack;
  before(async () => {
    stack = await startImportTestStack();
  });
  after(async () => stack?.stop());

  it('one start line and one end line with the job id and the counts', async () => {
    const captured: Captured[] = [];
    const capture = (level: string) => ({
      fn: (_info: unknown, message: string, attrs?: Record<string, unknown>) => {
        captured.push({ level, message, attrs: attrs ?? {} });
      },
      callDuringReplay: false,
    });
    // The SDK takes a `defaultWorkerLogger` sink as the workflow logger's sink (its reserved name
    // cannot be passed): every workflow `log` call lands here.
    const sinks = {
      defaultWorkerLogger: {
        trace: capture('TRACE'),
        debug: capture('DEBUG'),
        info: capture('INFO'),
        warn: capture('WARN'),
        error: capture('ERROR'),
      },
    } satisfies InjectedSinks<{ defaultWorkerLogger: LoggerSinksInternal['__temporal_logger'] }>;
    const taskQueue = uniqueName('logs');
    const worker = await stack.worker(taskQueue, { workerOptions: { sinks } });
    const datastoreId = await stack.newDatastore(uniqueName('logs-store'));
    const prefix = uniqueName('logs-data');
    const data = await stack.land(prefix, 3);
    const result = await worker.runUntil(
      (async () => {
        const handle = await startFhirImport(stack.temporal.env.client, {
          callerKey: taskQueue,
          taskQueue,
          input: stack.input(datastoreId, prefix),
        });
        return handle.result();
      })(),
    );
    const ours = captured.filter((c) => c.message.startsWith('HealthLake import'));
    const strip = ({ attrs, ...rest }: Captured) => {
      // The SDK adds the workflow's identity (namespace, ids, type, task queue): not ours to assert.
      const own = Object.fromEntries(
        Object.entries(attrs).filter(
          ([k]) =>
            !['namespace', 'taskQueue', 'workflowId', 'runId', 'workflowType', 'sdkComponent'].includes(k),
        ),
      );
      return { ...rest, attrs: own };
    };
    assert.deepEqual(ours.map(strip), [
      {
        level: 'INFO',
        message: 'HealthLake import job started',
        attrs: { datastoreId, jobId: result.jobId, status: 'SUBMITTED', attached: false },
      },
      {
        level: 'INFO',
        message: 'HealthLake import finished',
        attrs: {
          datastoreId,
          jobId: result.jobId,
          status: 'COMPLETED',
          resourcesImported: data.counts.resources,
          resourcesScanned: data.counts.resources,
          resourcesWithCustomerError: 0,
          describeCalls: result.describeCalls,
          durationMs: result.durationMs,
        },
      },
    ]);
    // Nothing the workflow logged names the data's location.
    assert.ok(!JSON.stringify(captured).includes(prefix), JSON.stringify(captured));
  });
});
