// The `temporal-healthlake` CLI as a user runs it: cli/main.ts from source (through tsx) in a process
// of its own, its output collected. Every CLI test spawns it this way.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

/** The CLI's entry point. */
export const CLI_MAIN = resolve(__dirname, '..', '..', 'cli', 'main.ts');

export interface SpawnCliOptions {
  /** Variables set over this process's environment. @default {} */
  readonly env?: NodeJS.ProcessEnv;
  /** SIGKILLs the process after this long, in ms: a hang guard, not a timing assertion. @default none */
  readonly killAfterMs?: number;
}

/** How a CLI process ended. */
export interface CliExit {
  readonly code: number | null;
  /** The signal that ended it (SIGKILL when it outlived `killAfterMs`), or null. */
  readonly signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly pid: number;
  /** Resolves when the process has exited and its output is read to the end. */
  readonly exited: Promise<CliExit>;
  /** What it printed on stdout so far. */
  stdout(): string;
  /** What it printed on stderr so far. */
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
}

/** A finished run: how it ended and all it printed. */
export interface CliRun extends CliExit {
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `temporal-healthlake <args>` and returns at once (for a CLI that keeps running). */
export function spawnCli(args: readonly string[], options: SpawnCliOptions = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const guard =
    options.killAfterMs === undefined
      ? undefined
      : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
  // 'close', not 'exit': the output may still be arriving when the process has exited.
  const exited = once(child, 'close')
    .then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }))
    .finally(() => clearTimeout(guard));
  return {
    pid: child.pid!,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    kill: (signal) => child.kill(signal),
  };
}

/** Runs `temporal-healthlake <args>` to its end. */
export async function runCli(args: readonly string[], options: SpawnCliOptions = {}): Promise<CliRun> {
  const cli = spawnCli(args, options);
  return { ...(await cli.exited), stdout: cli.stdout(), stderr: cli.stderr() };
}
