// What counts as a FHIR resource line in NDJSON, shared by the landing (which counts lines for the
// manifest) and the emulator (which scans them as HealthLake does), so the two always agree and a
// strict reconciliation never fails a batch where nothing was lost. Pure; safe in workflow code.

/**
 * Whether a decoded NDJSON line holds no resource: empty, or only Unicode whitespace as
 * `String.prototype.trim` defines it (spaces, tabs, CR, VT, FF, NBSP U+00A0, BOM U+FEFF, the
 * U+2000 block, line/paragraph separators, ...). HealthLake skips such lines without counting them.
 *
 * @example
 * isBlankNdjsonLine('\u00a0\t\ufeff'); // true
 * isBlankNdjsonLine('{"resourceType":"Patient"}'); // false
 */
export function isBlankNdjsonLine(line: string): boolean {
  return line.trim() === '';
}
