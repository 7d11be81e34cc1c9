// The Temporal Web UI as a person sees a waiting import: headless Chromium (Debian's `chromium`,
// driven by playwright-core; no downloaded browser) opens the workflow page of an import whose
// HealthLake job is held mid-run by the emulator. Run by `npm run test:browser` (.ci/browser-test.sh,
// which installs chromium when missing) and by .ci/run; not part of `npm test`, which must not need
// a browser. Screenshots are saved under test-artifacts/ui/ and their paths printed.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startFhirImport } from '../../client';
import type { HealthLakeWorker } from '../../worker';
import { progressQuery } from '../../workflows/types';
import { FAST_POLL, startImportTestStack, uniqueName, type ImportTestStack } from '../helpers/import-env';
import { waitFor } from '../helpers/wait-for';

/** Where Debian's `chromium` package puts the browser. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = resolve(__dirname, '..', '..', 'test-artifacts', 'ui');
/**
 * Without the background-networking flags Chromium calls out to Google's services at start, and on
 * a closed network those refused connections slow or break the launch.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Saves a full-page screenshot as a test artifact and prints its path. */
async function shot(page: Page, name: string): Promise<void> {
  const path = join(ARTIFACTS, name);
  await page.screenshot({ path, fullPage: true });
  process.stdout.write(`screenshot: ${path}\n`);
}

describe('Temporal UI: a waiting import reads as waiting', () => {
  let stack: ImportTestStack;
  let worker: HealthLakeWorker;
  let running: Promise<void>;
  let browser: Browser;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run npm run test:browser (installs chromium)`);
    stack = await startImportTestStack({ devServer: { ui: true } });
    const taskQueue = uniqueName('ui');
    worker = await stack.worker(taskQueue);
    running = worker.run();
    // launch() gives every run a fresh temporary user-data-dir, removed on close.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    worker?.shutdown();
    await running;
    await stack?.stop();
  });

  it('shows the job id, status and held counts in Current Details, and no stack trace for the wait', async () => {
    const datastoreId = await stack.newDatastore(uniqueName('ui'));
    const prefix = uniqueName('ui-data');
    await stack.land(prefix, 30);
    // The job is held mid-run, so the page shows a running wait with counts that stay put.
    const {
      started: handle,
      jobId,
      report: held,
    } = await stack.holdJobMidRun(datastoreId, () =>
      startFhirImport(stack.temporal.env.client, {
        callerKey: uniqueName('ui'),
        taskQueue: worker.taskQueue,
        input: stack.input(datastoreId, prefix, {
          // Every wait goes back to the server as a benign retry (the UI's "Last Failure" path),
          // and the counts go back to the workflow (its Current Details) often.
          pollPolicy: {
            ...FAST_POLL,
            inAttemptWaitMaxMs: 0,
            maxProgressMilestones: 20,
            progressIntervalMs: 100,
            reportRefreshMs: 0,
          },
        }),
      }),
    );
    try {
      const imported = held.TotalNumberOfResourcesImported!;
      const scanned = held.TotalNumberOfResourcesScanned!;
      assert.ok(imported > 0 && imported < 10_000, `held mid-run at ${imported} resources`);
      // The workflow's own view (what Current Details renders) has reached the held counts.
      await waitFor(
        () => handle.query(progressQuery),
        (progress) => progress.counts.resourcesImported === imported,
        'the workflow to see the held counts',
      );
      // ...and the wait has gone back to the server at least once (a benign retry is pending).
      await waitFor(
        () => handle.describe(),
        (d) => (d.raw.pendingActivities ?? []).some((a) => (a.attempt ?? 0) > 1 && a.lastFailure),
        'a benign retry of the wait',
      );

      const page = await browser.newPage({ viewport: { width: 1400, height: 2200 } });
      const url = `${stack.temporal.server!.uiUrl}/namespaces/default/workflows/${encodeURIComponent(handle.workflowId)}`;
      await waitFor(
        async () => (await page.goto(url))?.status(),
        (status) => status === 200,
        'the Web UI to serve the workflow page',
      );
      const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const countsLine = `resources imported\\s+${imported.toLocaleString('en-US')} of ${scanned.toLocaleString('en-US')} scanned`;

      // Timeline (the page a link opens).
      await shot(page, 'import-timeline.png');

      // Current Details: the workflow's own view, fetched through the worker when the tab opens.
      await page.getByText('User Metadata', { exact: true }).first().click();
      // The UI renders each markdown block in its own sandboxed frame: read every frame's text.
      const framesText = async () =>
        (
          await Promise.all(
            page.frames().map((frame) =>
              frame
                .locator('body')
                .innerText()
                .catch(() => ''),
            ),
          )
        ).join('\n----\n');
      const metadataText = await waitFor(
        framesText,
        (text) => new RegExp(`^${countsLine}$`, 'm').test(text),
        'Current Details to show the held counts',
      );
      const detailsText = metadataText.split('\n----\n').find((text) => new RegExp(countsLine).test(text))!;
      await shot(page, 'import-current-details.png');
      assert.match(detailsText, new RegExp(`^status\\s+IN_PROGRESS$`, 'm'), detailsText);
      assert.match(detailsText, new RegExp(`^job\\s+${escaped(jobId)}$`, 'm'), detailsText);
      assert.match(detailsText, new RegExp(`^${countsLine}$`, 'm'), detailsText);
      assert.ok(metadataText.includes(`HealthLake import into ${datastoreId}`), `summary:\n${metadataText}`);

      // The pending wait: its last failure is the benign "waiting" message, never a stack trace.
      await page.getByText('Pending Activities').first().click();
      await page.getByText('Heartbeat Details', { exact: true }).first().waitFor({ timeout: 60_000 });
      // A wait that has just handed counts back to the workflow is a fresh activity whose first
      // retry (and so its Last Failure) is a second away: read the tab again until it is there.
      const pendingUrl = page.url();
      const pendingText = await waitFor(
        async () => {
          const text = await page.locator('body').innerText();
          if (!text.includes('Last Failure')) await page.goto(pendingUrl);
          return text;
        },
        (text) => text.includes('Last Failure') && text.includes('Heartbeat Details'),
        'the pending wait with its Last Failure',
        { stepMs: 500 },
      );
      await shot(page, 'import-pending-activity.png');
      assert.ok(
        pendingText.includes(
          `"message": "waiting, not an error: import job ${jobId} is IN_PROGRESS; next Describe in`,
        ),
        `the benign wait message under Last Failure:\n${pendingText}`,
      );
      assert.ok(
        pendingText.includes(`"resourcesImported": ${imported},`),
        `heartbeat counts:\n${pendingText}`,
      );
      // A failure's JSON lists stackTrace right after source (proto field order): none here.
      assert.match(
        pendingText,
        /"source": "TypeScriptSDK",\n\s*"applicationFailureInfo": \{\n\s*"type": "ImportJobStillRunning"/,
      );
      assert.ok(!pendingText.includes('stackTrace'), `no stackTrace under Last Failure:\n${pendingText}`);
      assert.doesNotMatch(pendingText, /^\s*at .+:\d+:\d+\)?$/m, 'no stack frame on the page');
      await page.close();
    } finally {
      stack.local.emulator.jobs.release(jobId);
    }
    const result = await handle.result();
    assert.equal(result.progress.status, 'COMPLETED');
  });
});
