// The deployable worker (worker/main.ts) with OTEL_EXPORTER_OTLP_ENDPOINT set: after a real import
// on the emulator and a SIGTERM, a local OTLP/HTTP receiver holds the import's workflow and
// activity spans under the service name from OTEL_SERVICE_NAME.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startFhirImport } from '../client';
import { freePort } from '../worker/dev-server';
import { startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import { WorkerProcess } from './helpers/worker-process';

interface OtlpExport {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ spans: Array<{ name: string; traceId: string }> }>;
  }>;
}

let stack: ImportTestStack;
let receiver: Server;
const received: Array<{ path: string; body: OtlpExport }> = [];
let port: number;

before(async () => {
  stack = await startImportTestStack();
  port = await freePort();
  receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: JSON.parse(body) as OtlpExport });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));
});
after(async () => {
  await new Promise((resolve) => receiver?.close(resolve));
  await stack?.stop();
});

describe('worker/main.ts tracing', () => {
  it('OTEL_EXPORTER_OTLP_ENDPOINT: the import spans reach the OTLP receiver, flushed on SIGTERM', async () => {
    const datastoreId = await stack.newDatastore(uniqueName('otlp'));
    const prefix = uniqueName('otlp-data');
    const data = await stack.land(prefix, 2);
    const taskQueue = uniqueName('otlp');
    const worker = new WorkerProcess({
      ...stack.workerProcessEnv(taskQueue),
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/`,
      OTEL_SERVICE_NAME: 'healthlake-worker-test',
    });
    try {
      const ready = await worker.line('healthlake worker ready:');
      assert.ok(ready.endsWith(` traces http://127.0.0.1:${port}/v1/traces`), ready);
      const handle = await startFhirImport(stack.temporal.env.client, {
        callerKey: taskQueue,
        taskQueue,
        input: stack.input(datastoreId, prefix),
      });
      const result = await handle.result();
      assert.equal(result.progress.counts.resourcesImported, data.counts.resources);
    } finally {
      const exit = await worker.stop();
      assert.equal(exit.code, 0, exit.stderr);
    }
    // The batch still buffered at SIGTERM is sent before the process exits.
    assert.ok(received.length > 0, 'no OTLP export received');
    assert.deepEqual([...new Set(received.map((r) => r.path))], ['/v1/traces']);
    const spans = received.flatMap((r) =>
      r.body.resourceSpans.flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) =>
          ss.spans.map((span) => ({
            name: span.name,
            traceId: span.traceId,
            service: rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue,
          })),
        ),
      ),
    );
    const names = new Set(spans.map((span) => span.name));
    for (const name of [
      'RunWorkflow:fhirImportWorkflow',
      'StartActivity:startImportJob',
      'RunActivity:startImportJob',
      'RunActivity:awaitImportJobChange',
    ])
      assert.ok(names.has(name), `span ${name} among ${[...names].sort().join(', ')}`);
    assert.deepEqual([...new Set(spans.map((span) => span.service))], ['healthlake-worker-test']);
    const workflowTrace = spans.find((span) => span.name === 'RunWorkflow:fhirImportWorkflow')!.traceId;
    assert.equal(spans.find((span) => span.name === 'RunActivity:startImportJob')!.traceId, workflowTrace);
  });
});
