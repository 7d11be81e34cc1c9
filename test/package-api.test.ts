// API report: packs the package (`npm pack`), installs the tarball into a fresh app, and checks that
// each documented entry point exports exactly the names in test/api-report.json (values and
// types, read through the package's `exports` map from the built dist/), so an export cannot
// disappear (or appear) unnoticed. `UPDATE_API_REPORT=1` rewrites the report after a deliberate change.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as TypeScript from 'typescript';
import {
  createPackedApp,
  ENTRY_POINTS,
  REPO_ROOT,
  typescriptToolchain,
  type PackedApp,
} from './helpers/packed-package';

interface EntryPointReport {
  /** Names that exist at runtime (functions, classes, constants). */
  readonly values: string[];
  /** Names that exist for TypeScript only (interfaces, type aliases). */
  readonly types: string[];
}
type ApiReport = Record<string, EntryPointReport>;

const REPORT_PATH = join(REPO_ROOT, 'test', 'api-report.json');

/** What the app's TypeScript sees through `exports` (types resolve from dist/*.d.ts). */
function typeLevelReport(app: PackedApp): { report: ApiReport; diagnostics: string[] } {
  // The app's own TypeScript, as a consumer's build would use it.
  const ts = createRequire(join(app.dir, 'package.json'))('typescript') as typeof TypeScript;
  const file = join(app.dir, 'api.ts');
  writeFileSync(file, ENTRY_POINTS.map((entry, i) => `import * as entry${i} from '${entry}';\n`).join(''));
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    // As most apps: @temporalio/common's own .d.ts imports `ms`, which ships no types.
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file)!;
  const report: ApiReport = {};
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement)) continue;
    const entry = (statement.moduleSpecifier as TypeScript.StringLiteral).text;
    const moduleSymbol = checker.getSymbolAtLocation(statement.moduleSpecifier);
    assert.ok(moduleSymbol, `${entry} does not resolve through the package's exports map`);
    const values: string[] = [];
    const types: string[] = [];
    for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      (target.flags & ts.SymbolFlags.Value ? values : types).push(symbol.name);
    }
    report[entry] = { values: values.sort(), types: types.sort() };
  }
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  return { report, diagnostics };
}

/** What `require()` gives a CommonJS consumer at runtime. */
function runtimeNames(app: PackedApp): Record<string, string[]> {
  const script = `const entries = ${JSON.stringify(ENTRY_POINTS)};
const out = {};
for (const e of entries) out[e] = Object.keys(require(e)).filter((k) => k !== '__esModule').sort();
process.stdout.write(JSON.stringify(out));`;
  return JSON.parse(
    execFileSync(process.execPath, ['-e', script], { cwd: app.dir, encoding: 'utf8' }),
  ) as Record<string, string[]>;
}

describe('packed package API', () => {
  let app: PackedApp;
  before(() => {
    app = createPackedApp(typescriptToolchain());
  });
  after(() => {
    if (app && !process.env.KEEP_PACKED_APP) rmSync(app.dir, { recursive: true, force: true });
  });

  it('ships no source maps pointing at .ts files it does not ship, and no tests; the library ships no emulator', () => {
    for (const tarball of [app.tarball, app.emulatorTarball!]) {
      assert.deepEqual(
        tarball.files.filter((f) => f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts'))),
        [],
      );
      assert.deepEqual(
        tarball.files.filter((f) => f.startsWith('dist/test/') || f.startsWith('dist/bench/')),
        [],
      );
    }
    assert.deepEqual(
      app.tarball.files.filter((f) => f.startsWith('dist/emulator/') || f.startsWith('emulator/')),
      [],
    );
    assert.ok(app.emulatorTarball!.files.includes('dist/cli/main.js'));
    assert.ok(app.emulatorTarball!.files.includes('README.md'));
  });

  it('each entry point exports exactly the names in test/api-report.json, at type level and at runtime', () => {
    const { report, diagnostics } = typeLevelReport(app);
    assert.deepEqual(diagnostics, []);
    if (process.env.UPDATE_API_REPORT === '1')
      writeFileSync(REPORT_PATH, `${JSON.stringify(report, null, 2)}\n`);
    const committed = JSON.parse(readFileSync(REPORT_PATH, 'utf8')) as ApiReport;
    assert.deepEqual(Object.keys(report), [...ENTRY_POINTS]);
    for (const entry of ENTRY_POINTS)
      assert.deepEqual(report[entry], committed[entry], `exports of ${entry}`);
    const runtime = runtimeNames(app);
    for (const entry of ENTRY_POINTS)
      assert.deepEqual(runtime[entry], committed[entry]!.values, `runtime exports of ${entry}`);
  });

  it('without healthlake-emulator installed, the testing entry and the local-stack commands say to install it', () => {
    // The same app with the emulator's folder moved away: what an app without the optional peer sees.
    const installed = join(app.dir, 'node_modules', 'healthlake-emulator');
    const away = join(app.dir, 'healthlake-emulator.away');
    renameSync(installed, away);
    try {
      const testing = spawnSync(process.execPath, ['-e', "require('temporal-healthlake/testing')"], {
        cwd: app.dir,
        encoding: 'utf8',
      });
      assert.equal(testing.status, 1);
      assert.match(
        testing.stderr,
        /EmulatorNotInstalledError: temporal-healthlake\/testing needs the optional peer dependency healthlake-emulator, which is not installed: npm install --save-dev healthlake-emulator\n/,
      );
      const bin = join(app.dir, 'node_modules', '.bin', 'temporal-healthlake');
      for (const command of ['emulator', 'generate-fhir', 'demo', 'setup']) {
        const run = spawnSync(bin, [command], { cwd: app.dir, encoding: 'utf8' });
        assert.deepEqual(
          [run.status, run.stdout, run.stderr],
          [
            2,
            '',
            `error: the ${command} command needs the optional peer dependency healthlake-emulator, which is not installed: npm install --save-dev healthlake-emulator\n`,
          ],
        );
      }
      // Production entry points load without it.
      const worker = spawnSync(
        process.execPath,
        [
          '-e',
          "require('temporal-healthlake/worker'); require('temporal-healthlake/client'); console.log('ok')",
        ],
        { cwd: app.dir, encoding: 'utf8' },
      );
      assert.deepEqual([worker.status, worker.stdout], [0, 'ok\n'], worker.stderr);
    } finally {
      renameSync(away, installed);
    }
  });

  it('deep paths are closed: only the documented entry points resolve', () => {
    const script = `try { require('temporal-healthlake/workflows/types'); console.log('resolved'); } catch (e) { console.log(e.code); }`;
    assert.equal(
      execFileSync(process.execPath, ['-e', script], { cwd: app.dir, encoding: 'utf8' }).trim(),
      'ERR_PACKAGE_PATH_NOT_EXPORTED',
    );
  });
});
