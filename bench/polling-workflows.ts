// Workflows for bench/polling-patterns.ts: the same wait for one import job written in each of
// Temporal's polling patterns (the chosen hybrid is the real fhirImportWorkflow, attached to the job).
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { HealthLakeActivities, ImportJobSnapshot } from '../activities/import';
import { isTerminalImportStatus } from '../workflows/import-status';
import { nextPollDelayMs, ZERO_COUNTS } from '../workflows/poll-policy';
import type { FhirImportProgress, PollPolicy } from '../workflows/types';

export { fhirImportWorkflow } from '../workflows/import';

export interface BenchWaitInput {
  readonly datastoreId: string;
  readonly jobId: string;
  readonly pollPolicy: PollPolicy;
  readonly apiTaskQueue: string;
}

function firstProgress(input: BenchWaitInput): FhirImportProgress {
  return {
    datastoreId: input.datastoreId,
    jobId: input.jobId,
    status: 'SUBMITTED',
    counts: ZERO_COUNTS,
    describeCalls: 0,
  };
}

/** Pattern 1: one long heartbeating activity (returns on each status change). */
export async function heartbeatLoopWait(input: BenchWaitInput): Promise<FhirImportProgress> {
  const { watchImportJob } = proxyActivities<HealthLakeActivities>({
    taskQueue: input.apiTaskQueue,
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: input.pollPolicy.maxDelayMs * 3,
  });
  let progress = firstProgress(input);
  while (!isTerminalImportStatus(progress.status)) {
    const snapshot: ImportJobSnapshot = await watchImportJob({
      datastoreId: input.datastoreId,
      jobId: input.jobId,
      knownStatus: progress.status,
      knownMilestone: 0,
      pollPolicy: input.pollPolicy,
      firstDelayMs: input.pollPolicy.minDelayMs,
      lastProgress: progress,
    });
    progress = snapshot.progress;
  }
  return progress;
}

/** Pattern 3: the workflow loops, one Describe activity then a workflow timer (Temporal: avoid). */
export async function workflowLoopWait(input: BenchWaitInput): Promise<FhirImportProgress> {
  const { describeImportJob } = proxyActivities<HealthLakeActivities>({
    taskQueue: input.apiTaskQueue,
    startToCloseTimeout: input.pollPolicy.attemptTimeoutMs,
  });
  let progress = firstProgress(input);
  let pollsSinceChange = 0;
  let describeCalls = 0;
  for (;;) {
    const snapshot = await describeImportJob({ datastoreId: input.datastoreId, jobId: input.jobId });
    describeCalls++;
    const changed = snapshot.progress.status !== progress.status;
    progress = { ...snapshot.progress, describeCalls };
    if (isTerminalImportStatus(progress.status)) return progress;
    pollsSinceChange = changed ? 0 : pollsSinceChange + 1;
    const status = progress.status === 'NOT_STARTED' ? 'SUBMITTED' : progress.status;
    await sleep(
      nextPollDelayMs({ pollsSinceChange, status, nowMs: Date.now() }, input.pollPolicy, Math.random),
    );
  }
}

/** Baseline: the AWS SDK's waiter inside one activity (fixed delay, no progress, no heartbeat). */
export async function sdkWaiterWait(input: BenchWaitInput & { fixedDelaySeconds: number }): Promise<string> {
  const { sdkWaiter } = proxyActivities<{
    sdkWaiter(input: BenchWaitInput & { fixedDelaySeconds: number }): Promise<string>;
  }>({
    taskQueue: input.apiTaskQueue,
    startToCloseTimeout: '1 hour',
  });
  return sdkWaiter(input);
}
