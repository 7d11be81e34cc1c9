// A workflow history as the server stores it: the protobuf bytes, payloads included as written
// (plain JSON, or ciphertext under a codec). Tests search these bytes for strings that must not be
// there, and measure them.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** The encoded history of one run (the latest when `runId` is omitted). */
export async function historyBytes(client: Client, workflowId: string, runId?: string): Promise<Buffer> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return Buffer.from(temporal.api.history.v1.History.encode(history).finish());
}

/** The largest payload (data bytes) anywhere in one history. */
export async function largestPayloadBytes(client: Client, workflowId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  let largest = 0;
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    if (value instanceof Uint8Array) {
      largest = Math.max(largest, value.length);
      return;
    }
    for (const child of Object.values(value)) visit(child);
  };
  visit(history);
  return largest;
}

/** Every run (id, run id) on a task queue, as visibility lists them. */
export async function executionsOnTaskQueue(
  client: Client,
  taskQueue: string,
): Promise<{ workflowId: string; runId: string }[]> {
  const runs: { workflowId: string; runId: string }[] = [];
  for await (const execution of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
    runs.push({ workflowId: execution.workflowId, runId: execution.runId });
  }
  return runs;
}
