// worker/main.ts as a deployment runs it: a child process with only the environment it is given.
import { spawn, type ChildProcess } from 'node:child_process';

const MAIN = require.resolve('../../worker/main.ts');
/** Loading tsx and the SDK on a loaded 2-core machine; a hang guard, not a timing assertion. */
export const WORKER_START_LIMIT_MS = 120_000;

export interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class WorkerProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly exited: Promise<WorkerExit>;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      // NODE_NO_WARNINGS: the AWS SDK's Node-version notice is the machine's, not the worker's output.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_NO_WARNINGS: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) =>
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }),
      ),
    );
  }

  /** Waits for a stderr line starting with `prefix`. */
  async line(prefix: string, limitMs = WORKER_START_LIMIT_MS): Promise<string> {
    const deadline = Date.now() + limitMs;
    for (;;) {
      const found = this.stderr.split('\n').find((l) => l.startsWith(prefix));
      if (found) return found;
      if (this.child.exitCode !== null)
        throw new Error(`exited ${this.child.exitCode} before "${prefix}": ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no "${prefix}" line within ${limitMs} ms: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for the exit (killing the child after `limitMs` so a hang fails the test, not the run). */
  async exit(limitMs = WORKER_START_LIMIT_MS): Promise<WorkerExit> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), limitMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then the exit. */
  async stop(): Promise<WorkerExit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exit(15_000);
  }
}

export function nonEmptyLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}
