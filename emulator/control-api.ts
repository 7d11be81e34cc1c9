// The control API, outside the AWS surface: JSON endpoints under `/_emulator/` for tests, the demo
// and the benchmark to read counters, inject faults, steer jobs and change knobs over HTTP.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jsonNestingDepth, MAX_JSON_DEPTH, sendJson } from './http';
import type { EmulatorControls } from './controls';
import { checkEventFaultRules } from './events';

export const CONTROL_PREFIX = '/_emulator/';

const DEFAULT_FAIL_MESSAGE = 'Job failed by the emulator control API';

export function createControlApi(controls: EmulatorControls) {
  return function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const parts = url.pathname.slice(CONTROL_PREFIX.length).split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    let payload: Record<string, unknown>;
    try {
      const text = body.toString('utf8').trim();
      if (jsonNestingDepth(text) > MAX_JSON_DEPTH)
        return sendJson(res, 400, { error: `request body nests deeper than ${MAX_JSON_DEPTH} levels` });
      payload = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
        throw new Error('not an object');
    } catch {
      return sendJson(res, 400, { error: 'request body must be a JSON object' });
    }
    const route = `${method} ${parts[0] ?? ''}${parts.length > 1 ? '/*' : ''}${parts.length > 2 ? `/${parts[2]}` : ''}`;
    try {
      switch (route) {
        case 'GET health':
          return sendJson(res, 200, { ok: true });
        case 'GET counters':
          return sendJson(res, 200, controls.counters());
        case 'DELETE counters':
          controls.resetCounters();
          return sendJson(res, 200, {});
        case 'GET faults':
          return sendJson(res, 200, controls.faults.list());
        case 'PUT faults/*':
          controls.faults.set(parts[1]!, payload);
          return sendJson(res, 200, controls.faults.list());
        case 'DELETE faults':
          controls.faults.clear();
          return sendJson(res, 200, {});
        case 'DELETE faults/*':
          controls.faults.clear(parts[1]);
          return sendJson(res, 200, {});
        case 'GET jobs':
          return sendJson(res, 200, { jobs: controls.jobs.list() });
        case 'POST jobs/*/fail':
        case 'POST jobs/*/hang':
        case 'POST jobs/*/release': {
          const jobId = parts[1]!;
          const action = parts[2] as 'fail' | 'hang' | 'release';
          const done =
            action === 'fail'
              ? controls.jobs.fail(
                  jobId,
                  typeof payload.message === 'string' ? payload.message : DEFAULT_FAIL_MESSAGE,
                )
              : controls.jobs[action](jobId);
          return done
            ? sendJson(res, 200, { jobId, action })
            : sendJson(res, 409, { error: `job ${jobId} cannot ${action}: unknown, finished, or not hung` });
        }
        case 'POST datastores/*/fail-create': {
          const datastoreName = decodeURIComponent(parts[1]!);
          const category = payload.category === 'RETRYABLE_ERROR' ? 'RETRYABLE_ERROR' : 'NON_RETRYABLE_ERROR';
          controls.datastores.failCreate(datastoreName, {
            ErrorMessage:
              typeof payload.message === 'string' ? payload.message : 'Data store creation failed',
            ErrorCategory: category,
          });
          return sendJson(res, 200, { datastoreName, action: 'fail-create' });
        }
        case 'GET events':
          return sendJson(res, 200, {
            queueUrl: controls.events.queueUrl ?? null,
            counters: controls.events.counters(),
            faults: controls.events.faults(),
          });
        case 'PUT events/*':
          if (parts[1] !== 'faults') break;
          controls.events.setFaults(checkEventFaultRules(payload.rules));
          return sendJson(res, 200, { faults: controls.events.faults() });
        case 'DELETE events/*':
          if (parts[1] !== 'faults') break;
          controls.events.setFaults([]);
          return sendJson(res, 200, { faults: [] });
        case 'GET settings':
          return sendJson(res, 200, controls.settings());
        case 'PATCH settings':
          controls.updateSettings(payload);
          return sendJson(res, 200, controls.settings());
        default:
          break;
      }
      return sendJson(res, 404, { error: `no control endpoint ${method} ${url.pathname}` });
    } catch (err) {
      return sendJson(res, 400, { error: err instanceof Error ? err.message : 'bad request' });
    }
  };
}
