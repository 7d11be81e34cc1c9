// Fault injection and per-operation counters, shared by the handle and the control API.
// Randomness is injected so a seeded test knows exactly which calls fail.
import { ServiceError } from './errors';

/** What to inject into one operation's calls. Rates are fractions 0..1 and are tried in this order. */
export interface FaultSpec {
  /** Fraction of calls answered ThrottlingException. @default 0 */
  readonly throttleRate?: number;
  /** Fraction of calls answered InternalServerException. @default 0 */
  readonly internalErrorRate?: number;
  /** Fraction of calls answered AccessDeniedException. @default 0 */
  readonly accessDeniedRate?: number;
  /** Fraction of calls answered FailedDependencyException (newer model, HTTP 424). @default 0 */
  readonly failedDependencyRate?: number;
  /** Added latency before the call is processed, in ms. @default 0 */
  readonly latencyMs?: number;
  /**
   * Added latency after the call is processed and before it is answered, in ms: the change is
   * made (a job is submitted) while the caller still waits, e.g. to crash a client in that window.
   * @default 0
   */
  readonly responseLatencyMs?: number;
}

/** Per-operation call statistics. */
export interface OperationCounters {
  /** Every call that reached the operation, answered or not. */
  calls: number;
  /** Calls answered ThrottlingException (by quota or by injected fault). */
  throttled: number;
  /** Calls answered with an injected fault (throttling included). */
  injectedFaults: number;
  /** Calls answered with any error, by error type. */
  errors: Record<string, number>;
}

export interface Faults {
  /** Sets (replaces) the faults for `operation`; `'*'` applies to every operation without its own. */
  set(operation: string, spec: FaultSpec): void;
  /** Removes the faults of one operation, or all of them. */
  clear(operation?: string): void;
  /** The current fault table. */
  list(): Record<string, FaultSpec>;
}

export interface FaultInjector extends Faults {
  /** The latency to add before `operation`, in ms. */
  latencyMs(operation: string): number;
  /** The latency to add after `operation` is processed, before its answer, in ms. */
  responseLatencyMs(operation: string): number;
  /** An error to answer `operation` with, or undefined to let it through. */
  pick(operation: string): ServiceError | undefined;
}

export function createFaultInjector(random: () => number): FaultInjector {
  const table = new Map<string, FaultSpec>();
  const specFor = (operation: string): FaultSpec | undefined => table.get(operation) ?? table.get('*');
  return {
    set(operation, spec) {
      for (const [name, rate] of Object.entries(spec))
        if (typeof rate !== 'number' || rate < 0 || (name.endsWith('Rate') && rate > 1))
          throw new RangeError(
            `fault ${operation}.${name} ${String(rate)} must be a number in ${name.endsWith('Rate') ? '[0, 1]' : '[0, ∞)'}`,
          );
      table.set(operation, spec);
    },
    clear(operation) {
      if (operation === undefined) table.clear();
      else table.delete(operation);
    },
    list: () => Object.fromEntries(table),
    latencyMs: (operation) => specFor(operation)?.latencyMs ?? 0,
    responseLatencyMs: (operation) => specFor(operation)?.responseLatencyMs ?? 0,
    pick(operation) {
      const spec = specFor(operation);
      if (!spec) return undefined;
      const draws: [number | undefined, () => ServiceError][] = [
        [
          spec.throttleRate,
          () => new ServiceError('ThrottlingException', `Rate exceeded (injected fault on ${operation})`),
        ],
        [
          spec.internalErrorRate,
          () =>
            new ServiceError(
              'InternalServerException',
              `Internal server error (injected fault on ${operation})`,
            ),
        ],
        [
          spec.accessDeniedRate,
          () => new ServiceError('AccessDeniedException', `Access denied (injected fault on ${operation})`),
        ],
        [
          spec.failedDependencyRate,
          () =>
            new ServiceError(
              'FailedDependencyException',
              `A dependency of ${operation} failed (injected fault on ${operation})`,
            ),
        ],
      ];
      for (const [rate, make] of draws) if (rate && random() < rate) return make();
      return undefined;
    },
  };
}

export interface CallCounters {
  record(operation: string, error?: ServiceError, injected?: boolean): void;
  snapshot(): Record<string, OperationCounters>;
  reset(): void;
}

export function createCallCounters(): CallCounters {
  let byOperation = new Map<string, OperationCounters>();
  return {
    record(operation, error, injected = false) {
      const counters = byOperation.get(operation) ?? {
        calls: 0,
        throttled: 0,
        injectedFaults: 0,
        errors: {},
      };
      counters.calls += 1;
      if (error) {
        counters.errors[error.type] = (counters.errors[error.type] ?? 0) + 1;
        if (error.type === 'ThrottlingException') counters.throttled += 1;
        if (injected) counters.injectedFaults += 1;
      }
      byOperation.set(operation, counters);
    },
    snapshot: () => structuredClone(Object.fromEntries(byOperation)),
    reset() {
      byOperation = new Map();
    },
  };
}
