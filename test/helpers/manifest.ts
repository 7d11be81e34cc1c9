// The landing manifest for data uploaded with `ImportTestStack.land(prefix, ...)`, for tests that
// import with a manifest without running the landing (checksums are not checked by the import).
import type { GeneratedFhirData } from '../../emulator/fhir/generate';
import type { LandingManifest } from '../../workflows/manifest';
import { BUCKET } from './import-env';

export function manifestFor(prefix: string, data: GeneratedFhirData): LandingManifest {
  const objects = data.files.map((file) => ({
    key: `${prefix}/${file.name}`,
    sizeBytes: file.bytes,
    sha256: '0'.repeat(64),
    lines: file.lines,
  }));
  return {
    s3Uri: `s3://${BUCKET}/${prefix}/`,
    objects,
    totalObjects: objects.length,
    totalBytes: objects.reduce((sum, o) => sum + o.sizeBytes, 0),
    totalLines: objects.reduce((sum, o) => sum + o.lines, 0),
  };
}
