// Loaded into the workflow sandbox when tracing is on (worker/tracing.ts): the sandbox has its own
// OpenTelemetry globals, and without a propagator there the workflow's spans would not travel in
// the activity and child-workflow headers (each activity would start a trace of its own).
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { WorkflowInterceptors } from '@temporalio/workflow';

propagation.setGlobalPropagator(new W3CTraceContextPropagator());

/** No interceptors of its own: the OpenTelemetry plugin brings them. */
export const interceptors = (): WorkflowInterceptors => ({});
