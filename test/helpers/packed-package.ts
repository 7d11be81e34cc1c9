// Packs the repository's two packages the way `npm publish` would (`npm pack`: prepack builds
// dist/; the library and the healthlake-emulator workspace) and installs the tarballs into a fresh
// app folder, so tests and CI see exactly what a user installs.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');

/** The documented entry points, as a user imports them. */
export const ENTRY_POINTS = [
  'temporal-healthlake/workflows',
  'temporal-healthlake/contract',
  'temporal-healthlake/client',
  'temporal-healthlake/worker',
  'temporal-healthlake/activities',
  'temporal-healthlake/testing',
  'healthlake-emulator',
  'healthlake-emulator/testing',
  'healthlake-emulator/fhir',
  'healthlake-emulator/cli',
] as const;

export interface PackedTarball {
  readonly path: string;
  /** Paths inside the tarball (relative to the package root). */
  readonly files: readonly string[];
}

function npm(args: readonly string[], cwd: string): string {
  return execFileSync('npm', [...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The workspace packages besides the library at the root. */
export const EMULATOR_WORKSPACE = 'healthlake-emulator';

/** `npm pack` into `destination` (runs the prepack build): the library, or with `workspace` that package. */
export function packPackage(destination: string, workspace?: string): PackedTarball {
  const which = workspace === undefined ? [] : ['--workspace', workspace];
  const [packed] = JSON.parse(
    npm(['pack', '--json', ...which, '--pack-destination', destination], REPO_ROOT),
  ) as {
    filename: string;
    files: { path: string }[];
  }[];
  return { path: join(destination, packed!.filename), files: packed!.files.map((f) => f.path) };
}

export interface PackedApp {
  readonly dir: string;
  /** The library's tarball. */
  readonly tarball: PackedTarball;
  /** healthlake-emulator's tarball, when the app has it. */
  readonly emulatorTarball?: PackedTarball;
  /** npm's install output (warnings included). */
  readonly installLog: string;
}

/** Exact versions (from this repo's lockfile) of the packages a TypeScript consumer adds. */
export function typescriptToolchain(): string[] {
  const version = (name: string): string =>
    (
      JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  return [`typescript@${version('typescript')}`, `@types/node@${version('@types/node')}`];
}

/**
 * A fresh app with the packed library and emulator tarballs (plus `extraPackages`, exact versions)
 * installed from npm's cache first (`--prefer-offline`: the registry is asked only for what the
 * cache lacks). The emulator is packed first: the library's prepack build needs its dist/.
 */
export function createPackedApp(extraPackages: readonly string[] = []): PackedApp {
  const dir = mkdtempSync(join(tmpdir(), 'healthlake-packed-app-'));
  const tarballDir = join(dir, 'tarball');
  mkdirSync(tarballDir);
  const emulatorTarball = packPackage(tarballDir, EMULATOR_WORKSPACE);
  const tarball = packPackage(tarballDir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'packed-app', version: '1.0.0', private: true, type: 'commonjs' }, null, 2),
  );
  const install = spawnSync(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=warn',
      tarball.path,
      emulatorTarball.path,
      ...extraPackages,
    ],
    { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const installLog = `${install.stdout}${install.stderr}`;
  if (install.status !== 0) throw new Error(`npm install of the packed tarball failed:\n${installLog}`);
  return { dir, tarball, emulatorTarball, installLog };
}

/** Bytes on disk under `dir` (files only, symlinks not followed). */
export function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += directoryBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}
