// Builds a LandingManifest from the objects a landing step put in S3 (ours or yours): the totals are
// summed here, so they always agree with the objects. Pure; usable in workflow and activity code.
import type { LandedObject, LandingManifest } from './manifest';

/**
 * @param s3Uri the prefix the import will read, `s3://<bucket>/<prefix>/`
 * @param objects what was landed under it (key, size, SHA-256, resource lines)
 *
 * @example
 * const manifest = buildLandingManifest('s3://bucket/batch-42/', await myLandingActivity(batch));
 */
export function buildLandingManifest(s3Uri: string, objects: readonly LandedObject[]): LandingManifest {
  return {
    s3Uri,
    objects,
    totalObjects: objects.length,
    totalBytes: objects.reduce((sum, o) => sum + o.sizeBytes, 0),
    totalLines: objects.reduce((sum, o) => sum + o.lines, 0),
  };
}
