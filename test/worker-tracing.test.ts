// OpenTelemetry tracing through createHealthLakeWorker({ tracing }): a real worker pair runs an
// import against the emulator, and an in-memory exporter receives the workflow and activity spans
// (names as @temporalio/interceptors-opentelemetry 1.24 gives them), on one trace.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startFhirImport } from '../client';
import { createTracingPlugins, DEFAULT_TRACING_SERVICE_NAME } from '../worker';
import {
  quietBundlerLogger,
  startImportTestStack,
  uniqueName,
  type ImportTestStack,
} from './helpers/import-env';

let stack: ImportTestStack;
before(async () => {
  stack = await startImportTestStack();
});
after(async () => {
  await stack?.stop();
});

describe('worker tracing (OpenTelemetry)', () => {
  it('exports RunWorkflow/StartActivity/RunActivity spans of an import, one trace, service name set', async () => {
    const exporter = new InMemorySpanExporter();
    const spanProcessor = new SimpleSpanProcessor(exporter);
    // The workflow interceptors are compiled into the bundle: bundle with the same plugin.
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows'),
      plugins: await createTracingPlugins({ spanProcessor }),
      logger: quietBundlerLogger,
    });
    const datastoreId = await stack.newDatastore(uniqueName('tracing'));
    const prefix = uniqueName('tracing-data');
    const data = await stack.land(prefix, 2);
    const taskQueue = uniqueName('tracing');
    const worker = await stack.worker(taskQueue, { workflowBundle: bundle, tracing: { spanProcessor } });
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
    assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
    await spanProcessor.forceFlush();
    const spans = exporter.getFinishedSpans();
    const names = new Set(spans.map((span) => span.name));
    for (const name of [
      'RunWorkflow:fhirImportWorkflow',
      'StartActivity:startImportJob',
      'RunActivity:startImportJob',
      'StartActivity:awaitImportJobChange',
      'RunActivity:awaitImportJobChange',
    ])
      assert.ok(names.has(name), `span ${name} among ${[...names].sort().join(', ')}`);
    const runWorkflow = spans.find((span) => span.name === 'RunWorkflow:fhirImportWorkflow')!;
    assert.equal(runWorkflow.resource.attributes['service.name'], DEFAULT_TRACING_SERVICE_NAME);
    // Workflow and activity spans share the workflow's trace.
    const runStart = spans.find((span) => span.name === 'RunActivity:startImportJob')!;
    assert.equal(runStart.spanContext().traceId, runWorkflow.spanContext().traceId);
    const startStart = spans.find((span) => span.name === 'StartActivity:startImportJob')!;
    assert.equal(startStart.parentSpanId, runWorkflow.spanContext().spanId);
    assert.equal(runStart.parentSpanId, startStart.spanContext().spanId);
    await spanProcessor.shutdown();
  });
});
