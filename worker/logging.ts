// The worker process's logger (installed as the Temporal Runtime's, so the SDK's own lines, core's
// forwarded lines and the workflows' and activities' `log` calls all go through it): one line per
// entry on stderr, as text or JSON, with every configured secret replaced before it is written.
import { inspect } from 'node:util';
import { LogTimestamp, type LogLevel, type LogMetadata, type Logger } from '@temporalio/worker';

/** `HEALTHLAKE_LOG_FORMAT`: `text` (`<time> [LEVEL] message {meta}`) or `json` (one object per line). */
export const WorkerLogFormat = ['text', 'json'] as const;
export type WorkerLogFormat = (typeof WorkerLogFormat)[number];

const SEVERITIES: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/**
 * SDK warnings that describe this project's normal shape: the API worker registers activities
 * only, so the SDK's "No workflows registered" WARN at each start is expected (logged at DEBUG).
 */
const EXPECTED_WARNINGS = [/^No workflows registered, not polling for workflow tasks/];

export interface WorkerLoggerOptions {
  /** Entries below this level are dropped. @default 'WARN' */
  readonly level?: LogLevel;
  /** @default 'text' */
  readonly format?: WorkerLogFormat;
  /**
   * Values never written (API key, AWS secret, session token): replaced by `<redacted>` wherever
   * they appear. A safety net: nothing is meant to log them in the first place. @default []
   */
  readonly secrets?: readonly string[];
  /** Where lines go. @default process.stderr.write */
  readonly write?: (line: string) => void;
}

/** A Temporal `Logger` for the worker process; see {@link WorkerLoggerOptions}. */
export class WorkerLogger implements Logger {
  private readonly severity: number;
  private readonly format: WorkerLogFormat;
  private readonly secrets: readonly string[];
  private readonly write: (line: string) => void;

  constructor(options: WorkerLoggerOptions = {}) {
    this.severity = SEVERITIES.indexOf(options.level ?? 'WARN');
    this.format = options.format ?? 'text';
    // Short values would redact ordinary words; real secrets are long.
    this.secrets = (options.secrets ?? []).filter((secret) => secret.length >= 8);
    this.write = options.write ?? ((line) => void process.stderr.write(line));
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const effective = level === 'WARN' && EXPECTED_WARNINGS.some((p) => p.test(message)) ? 'DEBUG' : level;
    if (SEVERITIES.indexOf(effective) < this.severity) return;
    const { [LogTimestamp]: timestampNanos, ...rest } = (meta ?? {}) as LogMetadata & {
      [LogTimestamp]?: bigint;
    };
    const time = new Date(
      timestampNanos === undefined ? Date.now() : Number(timestampNanos / 1_000_000n),
    ).toISOString();
    const hasMeta = Object.keys(rest).length > 0;
    let line =
      this.format === 'json'
        ? JSON.stringify({ time, level: effective, message, ...rest }, jsonValue)
        : `${time} [${effective}] ${message}${hasMeta ? ` ${inspect(rest, { breakLength: Infinity, depth: 4 })}` : ''}`;
    for (const secret of this.secrets) line = line.split(secret).join('<redacted>');
    this.write(`${line.replace(/\n/g, '\\n')}\n`);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** JSON for what log metadata holds: errors by name and message (no stack), bigints as strings. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
