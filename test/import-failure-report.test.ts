// The import failure report: the pure summarizer on exact FAILURE lines (grouping, value
// stripping, bounds), and the wrapper workflow on real parts (dev server, emulator via the SDK,
// moto): after COMPLETED_WITH_ERRORS the result carries the report of the job's FAILURE files.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listObjects, readObjectLines } from '../emulator/s3';
import {
  failureRule,
  parseFailureLine,
  renderFailureReport,
  summarizeFailureLines,
} from '../workflows/import-failure-report';
import type { fhirImportWithFailureReportWorkflow } from '../workflows/import-report';
import { BUCKET, startImportTestStack, uniqueName, type ImportTestStack } from './helpers/import-env';

/** A FAILURE line as HealthLake (and the emulator) writes it. */
function failureLine(lineId: number, statusCode: number, diagnostics: string, expression?: string): string {
  return JSON.stringify({
    lineId,
    UpdateResourceResponse: {
      jsonBlob: {
        resourceType: 'OperationOutcome',
        issue: [
          {
            severity: 'error',
            code: 'value',
            diagnostics,
            ...(expression ? { expression: [expression] } : {}),
          },
        ],
      },
    },
    statusCode,
  });
}

describe('summarizeFailureLines (pure)', () => {
  it('groups by resource type, status and rule, largest first, with the exact counts', () => {
    const report = summarizeFailureLines([
      failureLine(1, 400, 'Patient.birthDate: wrong type', 'Patient.birthDate'),
      failureLine(2, 400, 'Patient.birthDate: wrong type', 'Patient.birthDate'),
      failureLine(3, 400, 'Observation.status: required element is missing', 'Observation.status'),
      failureLine(4, 400, 'Patient.name[0].family: must be a string', 'Patient.name[0].family'),
      failureLine(5, 400, 'Patient.name[3].family: must be a string', 'Patient.name[3].family'),
      failureLine(6, 400, 'Patient.birthDate: wrong type', 'Patient.birthDate'),
      failureLine(7, 422, 'line: is not valid JSON', 'line'),
      'not json at all',
      '',
    ]);
    assert.deepEqual(report.lines, [
      'Patient: 3 × 400 "Patient.birthDate: wrong type"',
      'Patient: 2 × 400 "Patient.name.family: must be a string"',
      '(unknown): 1 × 422 "line: is not valid JSON"',
      'Observation: 1 × 400 "Observation.status: required element is missing"',
    ]);
    assert.equal(report.unparsedLines, 1);
    assert.equal(report.linesRead, 9);
    assert.equal(report.otherFailures, 0);
    assert.equal(report.truncated, false);
  });

  it('keeps no values: quoted text, long numbers and indices are removed; rules are capped', () => {
    assert.equal(
      failureRule(`Patient.name[0].given[1]: value 'Jane' does not match "^[A-Z]+$" (id 1234567)`),
      'Patient.name.given: value … does not match … (id #)',
    );
    assert.equal(failureRule('x'.repeat(300), 10), `${'x'.repeat(9)}…`);
    const parsed = parseFailureLine(
      failureLine(1, 400, `Patient.telecom[0].value: '555-0100-123' is invalid`),
    );
    assert.deepEqual(parsed, {
      resourceType: 'Patient',
      statusCode: 400,
      rule: 'Patient.telecom.value: … is invalid',
    });
  });

  it('is bounded: at most maxGroups groups, the rest counted as other failures', () => {
    const lines = ['A', 'B', 'C', 'D'].flatMap((t, i) =>
      Array.from({ length: 4 - i }, (_, n) => failureLine(n, 400, `Patient.${t}: bad`, `Patient.${t}`)),
    );
    const report = summarizeFailureLines(lines, { maxGroups: 2 });
    assert.deepEqual(report.lines, [
      'Patient: 4 × 400 "Patient.A: bad"',
      'Patient: 3 × 400 "Patient.B: bad"',
    ]);
    assert.equal(report.otherFailures, 2 + 1);
    assert.equal(
      renderFailureReport(report),
      [
        '**Import failures**: 10 rejected resources in 1 of 1 FAILURE files',
        '',
        '- Patient: 4 × 400 "Patient.A: bad"',
        '- Patient: 3 × 400 "Patient.B: bad"',
        '- 3 more in smaller groups',
      ].join('\n'),
    );
  });
});

describe('fhirImportWithFailureReportWorkflow on the emulator', () => {
  let stack: ImportTestStack;
  before(async () => {
    stack = await startImportTestStack();
  });
  after(async () => {
    await stack?.stop();
  });

  async function run(label: string, input: Parameters<typeof fhirImportWithFailureReportWorkflow>[0]) {
    const taskQueue = uniqueName(label);
    const worker = await stack.worker(taskQueue, { s3: stack.local.s3 });
    return worker.runUntil(
      stack.temporal.env.client.workflow.execute<typeof fhirImportWithFailureReportWorkflow>(
        'fhirImportWithFailureReportWorkflow',
        { taskQueue, workflowId: taskQueue, args: [input] },
      ),
    );
  }

  it('COMPLETED_WITH_ERRORS: the report counts every rejected resource, matches the FAILURE files, holds no ids', async () => {
    const datastoreId = await stack.newDatastore('report');
    const data = await stack.land('report', 5, 0.1);
    const invalid = data.counts.invalidByLevel.strict;
    assert.ok(invalid > 0);
    const result = await run('report', { import: stack.input(datastoreId, 'report') });
    assert.equal(result.status, 'COMPLETED_WITH_ERRORS');
    const report = result.failureReport;
    assert.ok(report);
    assert.equal(report.groups.reduce((sum, g) => sum + g.count, 0) + report.otherFailures, invalid);
    assert.equal(report.unparsedLines, 0);
    assert.equal(report.truncated, false);
    // The same summary, computed here from the FAILURE objects read directly.
    const prefix = result.outputFolderS3Uri.replace(`s3://${BUCKET}/`, '') + 'FAILURE/';
    const lines: string[] = [];
    const files = await listObjects(stack.local.s3, BUCKET, prefix);
    for (const file of files)
      for await (const line of readObjectLines(stack.local.s3, BUCKET, file.key)) lines.push(line);
    const expected = summarizeFailureLines(lines);
    assert.deepEqual(report.groups, expected.groups);
    assert.equal(report.failureFiles, files.length);
    assert.equal(report.failureFilesRead, files.length);
    assert.equal(report.linesRead, lines.length);
    // No resource ids or content: not one generated patient id appears in the report.
    const text = JSON.stringify(report);
    assert.equal(data.patientIds.filter((id) => text.includes(id)).length, 0);
  });

  it('the report is bounded by maxLines (truncated), and skipped with failureReport:false or a clean import', async () => {
    const datastoreId = await stack.newDatastore('report-bounded');
    await stack.land('report-bounded', 5, 0.1);
    const bounded = await run('report-bounded', {
      import: stack.input(datastoreId, 'report-bounded'),
      failureReport: { maxLines: 2 },
    });
    assert.equal(bounded.failureReport?.truncated, true);
    assert.equal(bounded.failureReport?.linesRead, 2);
    assert.equal(
      bounded.failureReport?.groups.reduce((sum, g) => sum + g.count, 0),
      2,
    );
    const skipped = await run('report-skipped', {
      import: stack.input(await stack.newDatastore('report-skipped'), 'report-bounded'),
      failureReport: false,
    });
    assert.equal(skipped.status, 'COMPLETED_WITH_ERRORS');
    assert.equal(skipped.failureReport, undefined);
    const cleanStore = await stack.newDatastore('report-clean');
    await stack.land('report-clean', 1);
    const clean = await run('report-clean', { import: stack.input(cleanStore, 'report-clean') });
    assert.equal(clean.status, 'COMPLETED');
    assert.equal(clean.failureReport, undefined);
  });
});
