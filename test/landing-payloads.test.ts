// What the landing puts into Temporal, on real parts (dev server, workers, moto S3, the emulator
// over HTTP): the manifest lives in S3 and only a reference travels, so 4,000 objects with long
// keys land and import with a small history; no landed file name and no host path appears in any
// history; whitespace-only lines are counted exactly as the import scans them.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { digestFile, readLandingManifest } from '../activities/landing';
import { fhirLandingWorkflow } from '../workflows/landing';
import type { FhirLandingInput, FhirLandingResult } from '../workflows/landing-types';
import { isLandingManifestRef, type LandingManifestRef } from '../workflows/manifest';
import { executionsOnTaskQueue, historyBytes, largestPayloadBytes } from './helpers/history-bytes';
import { startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';
import type { HealthLakeWorker } from '../worker';
import { waitFor } from './helpers/wait-for';

const KIB = 1024;
/** 4,000 objects whose keys (~700 bytes) made the inline manifest ~3 MB: over the 2 MB payload limit. */
const MANY_OBJECTS = 4_000;
/** The host folder's name, and landed file names, that must never reach a history. */
const HOST_FOLDER = 'clinic-SMITH-JANE-intake';
const PHI_NAMES = ['patient-JOHN-DOE-1985.ndjson', 'nested/patient-JANE-ROE-1990.ndjson'] as const;

function patientLine(id: string): string {
  return JSON.stringify({ resourceType: 'Patient', id });
}

function writeFile(root: string, name: string, text: string): void {
  const path = join(root, name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

describe('landing payloads: manifest in S3, no keys or host paths in histories', () => {
  let stack: ImportTestStack;
  let worker: HealthLakeWorker;
  let running: Promise<void>;
  let inbox: string;
  const taskQueue = uniqueName('landing-payloads');

  before(async () => {
    stack = await startImportTestStack();
    inbox = join(mkdtempSync(join(tmpdir(), 'thl-')), HOST_FOLDER);
    mkdirSync(inbox);
    worker = await stack.worker(taskQueue, {
      s3: stack.local.s3,
      landing: { directoryRoots: { inbox } },
    });
    running = worker.run();
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await stack?.stop();
  });

  function landingInput(
    datastoreId: string,
    key: string,
    extra: Partial<FhirLandingInput> = {},
  ): FhirLandingInput {
    return {
      source: { kind: 'directoryRoot', root: 'inbox', subfolder: key },
      import: stack.input(datastoreId, `${key}/input`, {
        validationLevel: 'structure-only',
        reconciliation: 'strict',
      }),
      gate: { settings: { holderCheckIntervalMs: 200 } },
      ...extra,
    };
  }

  it(`lands and imports ${MANY_OBJECTS} objects with long keys; the history stays small`, async () => {
    const key = uniqueName('many');
    // Three folder levels of 200 characters: each key is ~700 bytes.
    const folder = ['a', 'b', 'c'].map((c) => `${c}-${'x'.repeat(198)}`).join('/');
    let bytes = 0;
    for (let i = 0; i < MANY_OBJECTS; i += 1) {
      const text = `${patientLine(`p-${i}`)}\n`;
      writeFile(join(inbox, key), `${folder}/record-${String(i).padStart(5, '0')}.ndjson`, text);
      bytes += Buffer.byteLength(text);
    }
    const datastoreId = await stack.newDatastore(key);
    const result: FhirLandingResult = await stack.temporal.env.client.workflow.execute(fhirLandingWorkflow, {
      taskQueue,
      workflowId: key,
      args: [
        landingInput(datastoreId, key, {
          // Polls spaced out: the emulator scans 4,000 objects in this process, and a busy poll
          // loop would only compete with it.
          import: {
            ...landingInput(datastoreId, key).import,
            pollPolicy: {
              initialDelayMs: 1_000,
              minDelayMs: 1_000,
              maxDelayMs: 5_000,
              attemptTimeoutMs: 5_000,
            },
          },
        }),
      ],
    });

    assert.ok(isLandingManifestRef(result.manifest));
    assert.equal(result.manifest.totalObjects, MANY_OBJECTS);
    assert.equal(result.manifest.totalBytes, bytes);
    assert.equal(result.manifest.totalLines, MANY_OBJECTS);
    assert.equal(result.manifest.manifestS3Uri, `s3://import-tests/${key}/_manifests/input.json`);
    const stored = await readLandingManifest(stack.local.s3, result.manifest);
    assert.equal(stored.objects.length, MANY_OBJECTS);
    assert.equal(stored.objects[0]?.key, `${key}/input/${folder}/record-00000.ndjson`);
    assert.equal(
      stored.objects.reduce((sum, o) => sum + o.sizeBytes, 0),
      bytes,
    );

    const counts = result.importResult.progress.counts;
    assert.equal(result.importResult.status, 'COMPLETED');
    assert.equal(counts.scannedFiles, MANY_OBJECTS);
    assert.equal(counts.resourcesScanned, MANY_OBJECTS);
    assert.equal(counts.resourcesImported, MANY_OBJECTS);
    assert.deepEqual(result.importResult.reconciliation?.mismatches, []);

    const client = stack.temporal.env.client;
    const landingHistory = await historyBytes(client, key);
    const importHistory = await historyBytes(client, result.importWorkflowId);
    console.warn(
      `history bytes for ${MANY_OBJECTS} objects: landing ${landingHistory.length}, import ${importHistory.length}`,
    );
    assert.ok(landingHistory.length < 64 * KIB, `landing history is ${landingHistory.length} bytes`);
    // The import's history grows with status changes and milestones, not with objects (55.8 KB for
    // 1,000 objects, 59.2 KB for 4,000; the inline manifest made it 799 KB for 1,000).
    assert.ok(importHistory.length < 128 * KIB, `import history is ${importHistory.length} bytes`);
    for (const workflowId of [key, result.importWorkflowId]) {
      const largest = await largestPayloadBytes(client, workflowId);
      assert.ok(largest < 16 * KIB, `${workflowId}: a payload of ${largest} bytes`);
    }
  });

  it('keeps landed file names and the host folder out of every history (landing, gate, import)', async () => {
    const key = uniqueName('phi');
    for (const [index, name] of PHI_NAMES.entries()) {
      writeFile(
        join(inbox, key),
        name,
        `${patientLine(`phi-${index}-a`)}\n${patientLine(`phi-${index}-b`)}\n`,
      );
    }
    const datastoreId = await stack.newDatastore(key);
    const client = stack.temporal.env.client;
    const result: FhirLandingResult = await client.workflow.execute(fhirLandingWorkflow, {
      taskQueue,
      workflowId: key,
      args: [landingInput(datastoreId, key)],
    });
    assert.equal(result.manifest.totalObjects, 2);
    assert.equal(result.importResult.progress.counts.resourcesImported, 4);
    const expected = [key, result.importWorkflowId, `healthlake-gate/${datastoreId}`];
    const runs = await waitFor(
      () => executionsOnTaskQueue(client, taskQueue),
      (found) => expected.every((id) => found.some((run) => run.workflowId === id)),
      'landing, import and gate runs listed',
    );
    const forbidden = ['JOHN-DOE', 'JANE-ROE', HOST_FOLDER, inbox];
    for (const run of runs) {
      const bytes = await historyBytes(client, run.workflowId, run.runId);
      for (const text of forbidden) {
        assert.equal(bytes.includes(text), false, `history of ${run.workflowId} contains "${text}"`);
      }
    }
    // The names are in S3 (the manifest), only there.
    const stored = await readLandingManifest(stack.local.s3, result.manifest as LandingManifestRef);
    assert.deepEqual(
      stored.objects.map((o) => o.key),
      [`${key}/input/nested/patient-JANE-ROE-1990.ndjson`, `${key}/input/patient-JOHN-DOE-1985.ndjson`],
    );
  });

  it('counts lines of only Unicode whitespace as the import scans them: strict reconciliation passes', async () => {
    const key = uniqueName('blank');
    const blankLines = [' \u00a0\t', '\u000b', '\u000c', '\ufeff', '\r', '\u2003\u3000', '\u2028'];
    const text =
      [patientLine('w-1'), ...blankLines, `\ufeff${patientLine('w-2')}`, ' \u00a0', patientLine('w-3')].join(
        '\n',
      ) + '\n';
    writeFile(join(inbox, key), 'Patient.ndjson', text);
    const datastoreId = await stack.newDatastore(key);
    const result: FhirLandingResult = await stack.temporal.env.client.workflow.execute(fhirLandingWorkflow, {
      taskQueue,
      workflowId: key,
      args: [landingInput(datastoreId, key)],
    });
    assert.equal(result.manifest.totalLines, 3);
    assert.equal(result.importResult.progress.counts.resourcesScanned, 3);
    assert.equal(result.importResult.progress.counts.resourcesImported, 3);
    assert.deepEqual(result.importResult.reconciliation?.mismatches, []);
  });

  it('counts a long whitespace-only line split across read chunks as blank', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'thl-digest-'));
    // 100,000 NBSPs (200,000 bytes): over several 64 KiB read chunks and the digest's pending bound,
    // with the two bytes of one NBSP split across a chunk boundary at 65,536.
    const path = join(dir, 'blank.ndjson');
    writeFileSync(
      path,
      `${'\u00a0'.repeat(100_000)}\n${patientLine('d-1')}\n${'\u00a0'.repeat(40_000)}x\n\u00a0\u00a0`,
    );
    const digest = await digestFile(path);
    assert.equal(digest.lines, 2);
  });
});
