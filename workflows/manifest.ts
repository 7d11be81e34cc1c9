// What a landing step put in S3 for one import: the contract between landing workflows (ours or a
// user's) and the import workflow, which uses it for percent/ETA and end-of-job reconciliation.

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

/** Everything landed for one import. Holds no resource content, only names, sizes and counts. */
export interface LandingManifest {
  /** The prefix the import reads, `s3://<bucket>/<prefix>/`. */
  readonly s3Uri: string;
  readonly objects: readonly LandedObject[];
  readonly totalObjects: number;
  readonly totalBytes: number;
  readonly totalLines: number;
}
