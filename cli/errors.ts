// Exit codes and the two error kinds every command maps onto them (one line on stderr each).
/** Every exit code the CLI uses. */
export const ExitCode = {
  Ok: 0,
  /** The import (or the operation) failed: a failed workflow, a missing workflow. */
  Failed: 1,
  /** Bad usage: an unknown flag, a bad value, a missing argument. */
  Usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A problem in what the user typed: one line on stderr, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The operation failed (not the usage): one line on stderr, exit 1. */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed';
}
