// The worker's own metrics, served with the Temporal runtime's on the Prometheus endpoint
// (HEALTHLAKE_METRICS_BIND): HealthLake API calls counted where they happen (inside activities, so
// the SDK adds activity_type, namespace and task_queue labels), and the number of imports waiting,
// counted by the server's visibility store so every worker reports the same fleet-wide figure.
// The import workflow's own counters are in workflows/import-metrics.ts.
import { Context } from '@temporalio/activity';
import type { MetricMeter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { ImportJobStatus } from '../workflows/types';

/** Names of the worker's metrics (Prometheus adds `_total` to counters). */
export const WorkerMetric = {
  /** HealthLake API calls by `operation` (e.g. DescribeFHIRImportJob) and `outcome` (ok, throttled, error). */
  apiRequests: 'healthlake_api_requests',
  /** Running import workflows whose job is SUBMITTED, QUEUED, IN_PROGRESS or being cancelled. */
  importsWaiting: 'healthlake_imports_waiting',
} as const;

/** Outcome label of one HealthLake call. */
export const ApiCallOutcome = { ok: 'ok', throttled: 'throttled', error: 'error' } as const;
export type ApiCallOutcome = (typeof ApiCallOutcome)[keyof typeof ApiCallOutcome];

/** HealthLake operation methods (`describeFHIRImportJob`), not `send`/`destroy`, which they call. */
const OPERATION_METHOD = /^[a-z]+FHIR[A-Za-z]+$/;

/**
 * Wraps a HealthLake client (the SDK's `HealthLake`, or any object with its operation methods) so
 * each operation call inside an activity adds 1 to `healthlake_api_requests{operation, outcome}`.
 * Calls outside an activity pass through uncounted. The client itself is untouched.
 */
export function instrumentHealthLakeApi<Api extends object>(api: Api): Api {
  return new Proxy(api, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || typeof value !== 'function' || !OPERATION_METHOD.test(property)) {
        return value;
      }
      const operation = property[0]!.toUpperCase() + property.slice(1);
      return async (...args: unknown[]): Promise<unknown> => {
        try {
          const output: unknown = await Reflect.apply(value, target, args);
          countApiCall(operation, ApiCallOutcome.ok);
          return output;
        } catch (err) {
          countApiCall(operation, isThrottling(err) ? ApiCallOutcome.throttled : ApiCallOutcome.error);
          throw err;
        }
      };
    },
  });
}

function isThrottling(err: unknown): boolean {
  const name = (err as { name?: unknown } | undefined)?.name;
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return name === 'ThrottlingException' || name === 'TooManyRequestsException' || status === 429;
}

function countApiCall(operation: string, outcome: ApiCallOutcome): void {
  let meter: MetricMeter;
  try {
    meter = Context.current().metricMeter;
  } catch {
    return; // not inside an activity
  }
  meter
    .createCounter(WorkerMetric.apiRequests, 'calls', 'HealthLake API calls by operation and outcome')
    .add(1, { operation, outcome });
}

/** Job statuses an import workflow waits through. */
const WAITING_STATUSES = [
  ImportJobStatus.SUBMITTED,
  ImportJobStatus.QUEUED,
  ImportJobStatus.IN_PROGRESS,
  ImportJobStatus.CANCEL_SUBMITTED,
  ImportJobStatus.CANCEL_IN_PROGRESS,
] as const;

/** The visibility query behind `healthlake_imports_waiting`. */
export const IMPORTS_WAITING_QUERY =
  `WorkflowType = 'fhirImportWorkflow' AND ExecutionStatus = 'Running' AND ` +
  `HealthLakeJobStatus IN (${WAITING_STATUSES.map((status) => `'${status}'`).join(', ')})`;

/** @default 15_000 ms between two counts (one CountWorkflowExecutions call each). */
export const DEFAULT_IMPORTS_WAITING_INTERVAL_MS = 15_000;

/**
 * Sets the gauge `healthlake_imports_waiting` from a visibility count every `intervalMs` until
 * `signal` aborts. A failed count leaves the last value (visibility may lag or be briefly down).
 */
export function watchImportsWaiting(options: {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly meter: MetricMeter;
  readonly signal: AbortSignal;
  /** @default 15_000 */
  readonly intervalMs?: number;
}): void {
  const gauge = options.meter.createGauge(
    WorkerMetric.importsWaiting,
    'int',
    'imports',
    'Running imports whose HealthLake job has not ended (visibility count)',
  );
  const count = async (): Promise<void> => {
    try {
      const counted = await options.connection.workflowService.countWorkflowExecutions({
        namespace: options.namespace,
        query: IMPORTS_WAITING_QUERY,
      });
      if (!options.signal.aborted) gauge.set(Number(counted.count ?? 0));
    } catch {
      // Keep the last value: a gauge that drops to 0 on a visibility hiccup would be a false alarm.
    }
  };
  void count();
  const timer = setInterval(() => void count(), options.intervalMs ?? DEFAULT_IMPORTS_WAITING_INTERVAL_MS);
  timer.unref();
  options.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
