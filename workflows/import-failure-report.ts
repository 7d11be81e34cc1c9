// The failure report of an import for people: HealthLake's FAILURE lines summarized as counts by
// resource type, HTTP status and diagnostic rule, e.g. `Patient: 4 × 400 "Patient.birthDate: ..."`.
// Pure (workflows and activities share it). Never keeps resource content or values: a rule is the
// OperationOutcome's diagnostics with array indices, quoted text and long numbers removed.

/** One group of failures. */
export interface ImportFailureGroup {
  /** From the issue's FHIRPath expression (`Patient.birthDate` → `Patient`); `(unknown)` when none. */
  readonly resourceType: string;
  /** The FAILURE line's `statusCode` (0 when missing). */
  readonly statusCode: number;
  /** The first issue's diagnostics, stripped of values (see {@link failureRule}). */
  readonly rule: string;
  readonly count: number;
}

/** The report. Counts, types, statuses and rules only. */
export interface ImportFailureReport {
  /** FAILURE objects under the job's output folder. */
  readonly failureFiles: number;
  /** Those read (all, unless the byte or line bound stopped the reading). */
  readonly failureFilesRead: number;
  readonly linesRead: number;
  readonly bytesRead: number;
  /** True when `maxBytes` or `maxLines` stopped the reading: counts cover what was read. */
  readonly truncated: boolean;
  /** Lines that were not a FAILURE record (not JSON, or no OperationOutcome). */
  readonly unparsedLines: number;
  /** Largest groups first (ties by type, status, rule), at most `maxGroups`. */
  readonly groups: readonly ImportFailureGroup[];
  /** Failures in groups beyond `maxGroups`. */
  readonly otherFailures: number;
  /** One line per group: `Patient: 4 × 400 "Patient.birthDate: ..."`. */
  readonly lines: readonly string[];
}

/** Bounds of the report (its size in a payload, the UI and logs). */
export interface FailureReportLimits {
  /** Groups kept. @default 20 */
  readonly maxGroups?: number;
  /** Characters of a rule. @default 120 */
  readonly maxRuleChars?: number;
}

export const DEFAULT_MAX_FAILURE_GROUPS = 20;
export const DEFAULT_MAX_RULE_CHARS = 120;

const RESOURCE_TYPE = /^[A-Z][A-Za-z]{0,63}$/;

/**
 * A diagnostics text without values: array indices (`name[0]` → `name`), quoted text (`'x'`, `"x"`
 * → `…`) and numbers of 3 or more digits (`#`) are removed, whitespace collapsed, length capped.
 */
export function failureRule(diagnostics: string, maxChars = DEFAULT_MAX_RULE_CHARS): string {
  const rule = diagnostics
    .replace(/\[\d+\]/g, '')
    .replace(/'[^']*'|"[^"]*"|`[^`]*`/g, '…')
    .replace(/\d{3,}/g, '#')
    .replace(/\s+/g, ' ')
    .trim();
  return rule.length <= maxChars ? rule : `${rule.slice(0, maxChars - 1)}…`;
}

/** What one FAILURE line says, or undefined when it is not a FAILURE record. */
export function parseFailureLine(
  line: string,
  maxRuleChars = DEFAULT_MAX_RULE_CHARS,
): { resourceType: string; statusCode: number; rule: string } | undefined {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof record !== 'object' || record === null) return undefined;
  const { UpdateResourceResponse: response, statusCode } = record as {
    UpdateResourceResponse?: { jsonBlob?: unknown };
    statusCode?: unknown;
  };
  const outcome = response?.jsonBlob as
    { resourceType?: unknown; issue?: Array<{ diagnostics?: unknown; expression?: unknown }> } | undefined;
  if (outcome?.resourceType !== 'OperationOutcome' || !Array.isArray(outcome.issue)) return undefined;
  const first = outcome.issue[0];
  const diagnostics = typeof first?.diagnostics === 'string' ? first.diagnostics : '(no diagnostics)';
  const expression =
    Array.isArray(first?.expression) && typeof first.expression[0] === 'string'
      ? first.expression[0]
      : diagnostics;
  const head = expression.split(/[.:[\s]/, 1)[0] ?? '';
  return {
    resourceType: RESOURCE_TYPE.test(head) ? head : '(unknown)',
    statusCode: typeof statusCode === 'number' ? statusCode : Number(statusCode) || 0,
    rule: failureRule(diagnostics, maxRuleChars),
  };
}

/** Accumulates FAILURE lines into an {@link ImportFailureReport}. */
export class FailureReportBuilder {
  private readonly counts = new Map<string, ImportFailureGroup>();
  private unparsed = 0;
  private lineCount = 0;
  private byteCount = 0;

  constructor(private readonly limits: FailureReportLimits = {}) {}

  /** Adds one line (`bytes`: its size as read, for the byte bound). */
  add(line: string, bytes = line.length + 1): void {
    this.lineCount += 1;
    this.byteCount += bytes;
    if (line.trim() === '') return;
    const parsed = parseFailureLine(line, this.limits.maxRuleChars);
    if (parsed === undefined) {
      this.unparsed += 1;
      return;
    }
    const key = `${parsed.resourceType}\u0000${parsed.statusCode}\u0000${parsed.rule}`;
    const group = this.counts.get(key);
    this.counts.set(key, { ...parsed, count: (group?.count ?? 0) + 1 });
  }

  get linesRead(): number {
    return this.lineCount;
  }

  get bytesRead(): number {
    return this.byteCount;
  }

  build(files: { failureFiles: number; failureFilesRead: number; truncated: boolean }): ImportFailureReport {
    const maxGroups = this.limits.maxGroups ?? DEFAULT_MAX_FAILURE_GROUPS;
    const sorted = [...this.counts.values()].sort(
      (a, b) =>
        b.count - a.count ||
        a.resourceType.localeCompare(b.resourceType) ||
        a.statusCode - b.statusCode ||
        a.rule.localeCompare(b.rule),
    );
    const groups = sorted.slice(0, maxGroups);
    const otherFailures = sorted.slice(maxGroups).reduce((sum, g) => sum + g.count, 0);
    return {
      ...files,
      linesRead: this.lineCount,
      bytesRead: this.byteCount,
      unparsedLines: this.unparsed,
      groups,
      otherFailures,
      lines: groups.map(formatFailureGroup),
    };
  }
}

/** `Patient: 4 × 400 "Patient.birthDate: ..."` */
export function formatFailureGroup(group: ImportFailureGroup): string {
  return `${group.resourceType}: ${group.count} × ${group.statusCode} "${group.rule}"`;
}

/** Summarizes FAILURE lines (all in memory: for tests and small reports). */
export function summarizeFailureLines(
  lines: Iterable<string>,
  limits: FailureReportLimits = {},
): ImportFailureReport {
  const builder = new FailureReportBuilder(limits);
  for (const line of lines) builder.add(line);
  return builder.build({ failureFiles: 1, failureFilesRead: 1, truncated: false });
}

/** The report as markdown for the UI (`setCurrentDetails`). */
export function renderFailureReport(report: ImportFailureReport): string {
  const total = report.groups.reduce((sum, g) => sum + g.count, 0) + report.otherFailures;
  return [
    `**Import failures**: ${total} rejected resources in ${report.failureFilesRead} of ${report.failureFiles} FAILURE files` +
      (report.truncated ? ` (reading stopped at ${report.linesRead} lines / ${report.bytesRead} bytes)` : ''),
    '',
    ...report.lines.map((line) => `- ${line}`),
    ...(report.otherFailures > 0 ? [`- ${report.otherFailures} more in smaller groups`] : []),
    ...(report.unparsedLines > 0 ? [`- ${report.unparsedLines} lines not readable as FAILURE records`] : []),
  ].join('\n');
}
