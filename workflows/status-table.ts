// What a HealthLake status means to a wait, as data: each operation (export job, data store create,
// data store delete) is a small table `status -> outcome`; one classifier reads any of them.
// Pure and sandbox-safe, so workflows and activities share the same reading.

/** The kinds of outcome a status can have for a wait. */
export const StatusOutcome = {
  /** Not there yet: keep waiting. */
  waiting: 'waiting',
  /** The operation reached the status it was waiting for. */
  done: 'done',
  /** The operation ended and will never get there (FAILED, CREATE_FAILED, ...). */
  failed: 'failed',
  /** The operation was cancelled (CANCEL_*) or its target went away. */
  cancelled: 'cancelled',
  /** A status missing from the table (a newer API?): fail loudly, never wait on it. */
  unknown: 'unknown',
} as const;
export type StatusOutcome = (typeof StatusOutcome)[keyof typeof StatusOutcome];

/** A table for one operation: every status the API documents, mapped to its outcome. */
export type StatusTable<S extends string> = Readonly<Record<S, Exclude<StatusOutcome, 'unknown'>>>;

/** The outcome of `status` in `table`; `unknown` for a status the table does not list. */
export function classifyStatus<S extends string>(table: StatusTable<S>, status: string): StatusOutcome {
  return Object.prototype.hasOwnProperty.call(table, status) ? table[status as S] : StatusOutcome.unknown;
}

/** True when the wait is over: anything but `waiting` (an unknown status ends it too, as an error). */
export function isWaitOver<S extends string>(table: StatusTable<S>, status: string): boolean {
  return classifyStatus(table, status) !== StatusOutcome.waiting;
}
