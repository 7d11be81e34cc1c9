// TEMPORARY stand-in for emulator/fhir/validate.ts's checkResourceLine until it lands: JSON,
// resourceType and id patterns only. Removed once the FHIR validator is in.
import type { ResourceLineCheck } from './runtime';

const outcome = (diagnostics: string) => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'invalid', diagnostics }],
});

export const checkResourceLine: ResourceLineCheck = (line) => {
  let resource: unknown;
  try {
    resource = JSON.parse(line);
  } catch {
    return { ok: false, statusCode: 400, outcome: outcome('Line is not valid JSON') };
  }
  const { resourceType, id } = (resource ?? {}) as { resourceType?: unknown; id?: unknown };
  if (typeof resourceType !== 'string' || !/^[A-Za-z]{1,256}$/.test(resourceType))
    return { ok: false, statusCode: 400, outcome: outcome('resourceType is missing or invalid') };
  if (typeof id !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(id))
    return { ok: false, statusCode: 400, outcome: outcome('id is missing or invalid') };
  return { ok: true, resourceType, id, resource };
};
