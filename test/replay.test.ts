// Replays every history of the corpus (test/replay/histories/, recorded from released workflow code
// by `npm run replay:record`) against the current workflow bundle: a change to workflow code that
// would break a running import, landing, gate or pipeline on upgrade fails here, naming the file.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundle } from '@temporalio/worker';
import { quietTemporalRuntime } from './helpers/runtime';
import { historyFromJson, readCorpus } from './replay/corpus';

quietTemporalRuntime();

/** Every scenario the corpus must hold at least one history of (any source commit). */
const REQUIRED_SCENARIOS = [
  'import-completed',
  'import-deadline-not-passed',
  'import-deadline-passed',
  'import-cancelled',
  'import-found-job',
  'import-existing-job',
  'import-completed-with-errors-manifest',
  'import-failed',
  'import-running',
  'import-running-deadline',
  'import-child-of-landing',
  'landing-completed',
  'gate-one-lease',
  'gate-continue-as-new-run1',
  'gate-continue-as-new-run2',
  'gate-continue-as-new-run3',
  'pipeline-handover-1',
  'pipeline-handover-2',
] as const;

describe('replay corpus', () => {
  const corpus = readCorpus();
  let bundle: WorkflowBundle;

  before(async () => {
    bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows'),
      logger: new DefaultLogger('WARN'),
    });
  });

  it('holds every scenario, each file named <scenario>.<commit>.json', () => {
    for (const { file, recorded } of corpus) {
      assert.equal(file, `${recorded.scenario}.${recorded.sourceCommit}.json`);
    }
    const scenarios = new Set(corpus.map(({ recorded }) => recorded.scenario));
    assert.deepEqual(
      REQUIRED_SCENARIOS.filter((s) => !scenarios.has(s)),
      [],
      'scenarios missing from the corpus',
    );
  });

  it('replays every history against the current workflow code without nondeterminism', async () => {
    const failures: string[] = [];
    let replayed = 0;
    // The recorded workflow id, because the workflows derive child ids and job names from it.
    const histories = corpus.map(({ recorded }) => ({
      workflowId: recorded.workflowId,
      history: historyFromJson(recorded.history),
    }));
    // One result per history, in order (a gate's runs share a workflow id, so match by position).
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
      const file = corpus[replayed]?.file;
      replayed += 1;
      if (result.error) {
        // Core's own words ("[TMPRL1100] Nondeterminism error: ...") say what differs; the rest is boilerplate.
        const detail = /\[TMPRL\d+\][^"]*/.exec(result.error.message)?.[0] ?? result.error.message;
        failures.push(`${file}: ${result.error.name}: ${detail}`);
      }
    }
    assert.equal(replayed, corpus.length);
    assert.deepEqual(failures, [], `${failures.length} of ${corpus.length} histories do not replay`);
  });
});
