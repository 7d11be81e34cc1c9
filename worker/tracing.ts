// Optional OpenTelemetry tracing of the project's workflows and activities, through Temporal's own
// `@temporalio/interceptors-opentelemetry` (an optional peer dependency, loaded only when tracing is
// asked for: a worker without it pays nothing).
import type { Tracer } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { WorkerPlugin } from '@temporalio/worker';

/** Service name on the spans when {@link HealthLakeTracingOptions.resource} is not given. */
export const DEFAULT_TRACING_SERVICE_NAME = 'temporal-healthlake-worker';

/** The packages tracing loads, as `npm install` takes them (versions aligned with @temporalio 1.24). */
export const TRACING_PACKAGES =
  '@temporalio/interceptors-opentelemetry@1.24 @opentelemetry/sdk-trace-base@1 @opentelemetry/context-async-hooks@1';

/** Tracing was asked for but its optional packages are not installed. */
export class TracingDependencyMissing extends Error {
  override readonly name = 'TracingDependencyMissing';
  constructor(
    /** The module that failed to load. */
    readonly moduleName: string,
    options?: ErrorOptions,
  ) {
    super(
      `OpenTelemetry tracing needs ${moduleName}, which is not installed: npm install ${TRACING_PACKAGES}`,
      options,
    );
  }
}

export interface HealthLakeTracingOptions {
  /**
   * Where finished spans go, workflow spans included (through the plugin's sink): e.g.
   * `new BatchSpanProcessor(new OTLPTraceExporter())`. Flushed and shut down by its owner.
   */
  readonly spanProcessor: SpanProcessor;
  /** Resource attributes on the workflow spans. @default service.name = DEFAULT_TRACING_SERVICE_NAME */
  readonly resource?: Resource;
  /**
   * Tracer for the activity spans. @default a tracer of a provider that sends to `spanProcessor`
   * with `resource` (so workflow and activity spans go to the same place)
   */
  readonly tracer?: Tracer;
}

/**
 * Temporal's `OpenTelemetryPlugin` for the HealthLake workers, plus the W3C trace-context
 * propagator (in this process and in the workflow sandbox) so one import is one trace:
 * `RunWorkflow:<type>`, `StartActivity:<type>` and `StartChildWorkflow:<type>` spans from workflow
 * code, `RunActivity:<type>` from activities. `createHealthLakeWorker({ tracing })` adds them to both
 * workers; pass the same plugins to `bundleWorkflowCode({ plugins })` when you give the worker a
 * pre-built `workflowBundle` (the workflow interceptors are compiled into the bundle).
 *
 * @throws {TracingDependencyMissing} when `@temporalio/interceptors-opentelemetry` is not installed.
 * @example
 * const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter());
 * const worker = await createHealthLakeWorker({ connection, taskQueue, tracing: { spanProcessor } });
 */
export async function createTracingPlugins(options: HealthLakeTracingOptions): Promise<WorkerPlugin[]> {
  const { OpenTelemetryPlugin } = await loadOptional<typeof import('@temporalio/interceptors-opentelemetry')>(
    '@temporalio/interceptors-opentelemetry',
  );
  const { SimplePlugin } = await loadOptional<typeof import('@temporalio/plugin')>('@temporalio/plugin');
  const { context, propagation } =
    await loadOptional<typeof import('@opentelemetry/api')>('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await loadOptional<
    typeof import('@opentelemetry/context-async-hooks')
  >('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } =
    await loadOptional<typeof import('@opentelemetry/core')>('@opentelemetry/core');
  // Activities read the workflow's span from their headers with the process's global propagator,
  // and run inside it through the global context manager (the no-op default drops the parent).
  // Both are kept when the application registered its own (e.g. the OpenTelemetry Node SDK).
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const resource =
    options.resource ??
    new (await loadOptional<typeof import('@opentelemetry/resources')>('@opentelemetry/resources')).Resource({
      'service.name': DEFAULT_TRACING_SERVICE_NAME,
    });
  let tracer = options.tracer;
  if (tracer === undefined) {
    const { BasicTracerProvider } = await loadOptional<typeof import('@opentelemetry/sdk-trace-base')>(
      '@opentelemetry/sdk-trace-base',
    );
    tracer = new BasicTracerProvider({ resource, spanProcessors: [options.spanProcessor] }).getTracer(
      DEFAULT_TRACING_SERVICE_NAME,
    );
  }
  return [
    new SimplePlugin({
      name: 'HealthLakeTracePropagation',
      workerInterceptors: { workflowModules: [require.resolve('./tracing-workflow-interceptors')] },
    }),
    new OpenTelemetryPlugin({ spanProcessor: options.spanProcessor, resource, tracer }),
  ];
}

async function loadOptional<T>(moduleName: string): Promise<T> {
  try {
    // A CommonJS package's namespace may not list every re-export; its `default` is module.exports.
    const loaded = (await import(moduleName)) as T & { default?: T };
    return loaded.default ?? loaded;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND')
      throw new TracingDependencyMissing(moduleName, { cause: err });
    throw err;
  }
}

/** Tracing set up from the OpenTelemetry environment variables, for `worker/main.ts`. */
export interface TracingFromEnv {
  readonly options: HealthLakeTracingOptions;
  /** Where spans are sent (OTLP over HTTP, JSON). */
  readonly url: string;
  /** Sends the spans still buffered and stops the exporter. */
  shutdown(): Promise<void>;
}

/**
 * The worker's tracing from the standard OpenTelemetry variables: on when
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is) or `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces`)
 * is set and `OTEL_TRACES_EXPORTER` is not `none`; spans go in batches over OTLP/HTTP (JSON) with
 * `service.name` = `OTEL_SERVICE_NAME` (default {@link DEFAULT_TRACING_SERVICE_NAME}). Needs
 * `@opentelemetry/exporter-trace-otlp-http@0.57` beside {@link TRACING_PACKAGES}. Undefined when off.
 */
export async function tracingFromEnv(env: NodeJS.ProcessEnv): Promise<TracingFromEnv | undefined> {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if ((!traces && !base) || env.OTEL_TRACES_EXPORTER?.trim() === 'none') return undefined;
  const url = traces || `${base!.replace(/\/+$/, '')}/v1/traces`;
  const { OTLPTraceExporter } = await loadOptional<typeof import('@opentelemetry/exporter-trace-otlp-http')>(
    '@opentelemetry/exporter-trace-otlp-http',
  );
  const { BatchSpanProcessor } = await loadOptional<typeof import('@opentelemetry/sdk-trace-base')>(
    '@opentelemetry/sdk-trace-base',
  );
  const { Resource } =
    await loadOptional<typeof import('@opentelemetry/resources')>('@opentelemetry/resources');
  const spanProcessor = new BatchSpanProcessor(new OTLPTraceExporter({ url }));
  const resource = new Resource({
    'service.name': env.OTEL_SERVICE_NAME?.trim() || DEFAULT_TRACING_SERVICE_NAME,
  });
  return { options: { spanProcessor, resource }, url, shutdown: () => spanProcessor.shutdown() };
}
