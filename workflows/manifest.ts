// What a landing step put in S3 for one import: the contract between landing workflows (ours or a
// user's) and the import workflow, which uses it for percent/ETA and end-of-job reconciliation.
// Per-object data (keys, which may name patients) stays out of Temporal: our landing stores the
// full manifest in S3 and passes a LandingManifestRef (totals, the manifest's S3 URI and SHA-256).

/** One object landed under the import's input prefix. */
export interface LandedObject {
  /** Object key, relative to the bucket (not to the prefix). */
  readonly key: string;
  readonly sizeBytes: number;
  /** Hex SHA-256 of the object's bytes. */
  readonly sha256: string;
  /** Number of NDJSON lines (FHIR resources, valid or not) in the object. */
  readonly lines: number;
}

/** The totals of one landing: all the import needs for percent, ETA and reconciliation. */
export interface LandingTotals {
  /** The prefix the import reads, `s3://<bucket>/<prefix>/`. */
  readonly s3Uri: string;
  readonly totalObjects: number;
  readonly totalBytes: number;
  readonly totalLines: number;
}

/** Everything landed for one import. Holds no resource content, only names, sizes and counts. */
export interface LandingManifest extends LandingTotals {
  readonly objects: readonly LandedObject[];
}

/**
 * A landing whose full {@link LandingManifest} is a JSON object in S3: what travels through
 * Temporal instead of the object list, so no key (a file name may name a patient) reaches a
 * workflow history and no batch is too big for a payload. Read the objects in an activity with
 * `readLandingManifest` (activities/landing.ts), which checks `manifestSha256`.
 */
export interface LandingManifestRef extends LandingTotals {
  /** Where the full manifest is, `s3://<bucket>/<key>.json` (never under `s3Uri`). */
  readonly manifestS3Uri: string;
  /** Hex SHA-256 of the manifest object's bytes. */
  readonly manifestSha256: string;
}

/** What an import or a hand-off accepts: a manifest inline (your own landing) or a reference. */
export type LandingManifestOrRef = LandingManifest | LandingManifestRef;

/** Whether `manifest` is a reference to a manifest in S3 (no object list inline). */
export function isLandingManifestRef(manifest: LandingManifestOrRef): manifest is LandingManifestRef {
  return (manifest as Partial<LandingManifest>).objects === undefined;
}
