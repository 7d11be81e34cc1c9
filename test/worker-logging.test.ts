// The worker process's logger: one line per entry (text or JSON), secrets replaced, the API
// worker's expected "No workflows registered" warning demoted to DEBUG.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogTimestamp } from '@temporalio/worker';
import { WorkerLogger } from '../worker/logging';

function capture(options: ConstructorParameters<typeof WorkerLogger>[0]): {
  logger: WorkerLogger;
  lines: string[];
} {
  const lines: string[] = [];
  return { logger: new WorkerLogger({ ...options, write: (line) => lines.push(line) }), lines };
}

const AT = { [LogTimestamp]: 1_764_000_000_123_000_000n };

describe('WorkerLogger', () => {
  it('json: one object per line with time, level, message and the metadata', () => {
    const { logger, lines } = capture({ level: 'INFO', format: 'json' });
    logger.info('Import job started', {
      ...AT,
      jobId: 'job-1',
      resources: 12,
      error: new Error('boom\nline 2'),
    });
    assert.deepEqual(
      lines.map((line) => JSON.parse(line) as unknown),
      [
        {
          time: '2025-11-24T16:00:00.123Z',
          level: 'INFO',
          message: 'Import job started',
          jobId: 'job-1',
          resources: 12,
          error: { name: 'Error', message: 'boom\nline 2' },
        },
      ],
    );
    assert.equal(lines[0]!.split('\n').length, 2); // the line and its terminator only
  });

  it('text: one line, metadata inline', () => {
    const { logger, lines } = capture({ level: 'INFO' });
    logger.warn('Activity failed', { ...AT, attempt: 2 });
    assert.deepEqual(lines, ['2025-11-24T16:00:00.123Z [WARN] Activity failed { attempt: 2 }\n']);
  });

  it('replaces every configured secret, in messages and metadata, in both formats', () => {
    for (const format of ['text', 'json'] as const) {
      const { logger, lines } = capture({
        level: 'DEBUG',
        format,
        secrets: ['tmprl-key-0123456789', 'short'],
      });
      logger.debug('connecting with tmprl-key-0123456789', { ...AT, header: 'Bearer tmprl-key-0123456789' });
      assert.equal(lines.length, 1);
      assert.equal(lines[0]!.includes('tmprl-key-0123456789'), false, lines[0]);
      assert.equal(lines[0]!.split('<redacted>').length - 1, 2, lines[0]);
    }
  });

  it("the API worker's 'No workflows registered' WARN is DEBUG; the level filters", () => {
    const warn = capture({ level: 'WARN' });
    warn.logger.warn('No workflows registered, not polling for workflow tasks', {
      ...AT,
      taskQueue: 'q-api',
    });
    warn.logger.info('an info line', AT);
    warn.logger.error('an error line', AT);
    assert.deepEqual(warn.lines, ['2025-11-24T16:00:00.123Z [ERROR] an error line\n']);
    const debug = capture({ level: 'DEBUG' });
    debug.logger.warn('No workflows registered, not polling for workflow tasks', AT);
    assert.deepEqual(debug.lines, [
      '2025-11-24T16:00:00.123Z [DEBUG] No workflows registered, not polling for workflow tasks\n',
    ]);
  });
});
