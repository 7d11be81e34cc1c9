// Table test of the FHIR R4 line validator: each case is one NDJSON line and what every
// validation level must say about it (accept, or reject with this status and these diagnostics).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkResourceLine,
  fhirR4ResourceTypes,
  isValidationLevel,
  VALIDATION_LEVELS,
  type ValidationLevel,
} from '../emulator/fhir/validate';

const patient = {
  resourceType: 'Patient',
  id: 'pat-1',
  name: [{ family: 'Quillfeather', given: ['Odalys'] }],
  gender: 'female',
  birthDate: '1984-03-07',
};
const observation = {
  resourceType: 'Observation',
  id: 'obs.1',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
  subject: { reference: 'Patient/pat-1' },
  effectiveDateTime: '2021-05-01T10:00:00Z',
  valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
};

/** `true` = accepted; a string = rejected with exactly this one diagnostics text. */
type Verdict = true | string;
interface Case {
  readonly name: string;
  readonly line: string;
  readonly minimal: Verdict;
  readonly structureOnly: Verdict;
  readonly strict: Verdict;
}

const json = (value: unknown): string => JSON.stringify(value);
const UNKNOWN_TYPE = 'resourceType: must be a FHIR R4 resource type';

const cases: readonly Case[] = [
  { name: 'valid Patient', line: json(patient), minimal: true, structureOnly: true, strict: true },
  { name: 'valid Observation', line: json(observation), minimal: true, structureOnly: true, strict: true },
  {
    name: 'Observation with _status (a primitive carried by its extension) satisfies status 1..1',
    line: json({
      ...observation,
      status: undefined,
      _status: { extension: [{ url: 'http://example.org/x', valueString: 'x' }] },
    }),
    minimal: true,
    structureOnly: true,
    strict: true,
  },
  {
    name: 'truncated JSON',
    line: '{"resourceType":"Patient","id":"p1"',
    minimal: 'line: is not valid JSON at character 35',
    structureOnly: 'line: is not valid JSON at character 35',
    strict: 'line: is not valid JSON at character 35',
  },
  {
    name: 'JSON array instead of an object',
    line: '[1,2]',
    minimal: 'line: must be a JSON object',
    structureOnly: 'line: must be a JSON object',
    strict: 'line: must be a JSON object',
  },
  {
    name: 'missing resourceType',
    line: json({ id: 'x1' }),
    minimal: 'resourceType: required element is missing (every resource names its type)',
    structureOnly: 'resourceType: required element is missing (every resource names its type)',
    strict: 'resourceType: required element is missing (every resource names its type)',
  },
  {
    name: 'resourceType with a digit',
    line: json({ resourceType: 'Patient2', id: 'x1' }),
    minimal: 'resourceType: must be a string matching ^[A-Za-z]{1,256}$',
    structureOnly: 'resourceType: must be a string matching ^[A-Za-z]{1,256}$',
    strict: 'resourceType: must be a string matching ^[A-Za-z]{1,256}$',
  },
  {
    name: 'missing id',
    line: json({ ...patient, id: undefined }),
    minimal: 'Patient.id: required element is missing (every imported resource has an id)',
    structureOnly: 'Patient.id: required element is missing (every imported resource has an id)',
    strict: 'Patient.id: required element is missing (every imported resource has an id)',
  },
  {
    name: 'id with a slash',
    line: json({ ...patient, id: 'a/b' }),
    minimal: 'Patient.id: must be a string matching ^[A-Za-z0-9\\-.]{1,64}$',
    structureOnly: 'Patient.id: must be a string matching ^[A-Za-z0-9\\-.]{1,64}$',
    strict: 'Patient.id: must be a string matching ^[A-Za-z0-9\\-.]{1,64}$',
  },
  {
    name: 'id of 65 characters',
    line: json({ ...patient, id: 'a'.repeat(65) }),
    minimal: 'Patient.id: must be a string matching ^[A-Za-z0-9\\-.]{1,64}$',
    structureOnly: 'Patient.id: must be a string matching ^[A-Za-z0-9\\-.]{1,64}$',
    strict: 'Patient.id: must be a string matching ^[A-Za-z0-9\\-.]{1,64}$',
  },
  {
    name: 'unknown resourceType',
    line: json({ resourceType: 'Spaceship', id: 'x1' }),
    minimal: true,
    structureOnly: UNKNOWN_TYPE,
    strict: UNKNOWN_TYPE,
  },
  {
    name: "Medplum's own type is not FHIR R4",
    line: json({ resourceType: 'Bot', id: 'x1' }),
    minimal: true,
    structureOnly: UNKNOWN_TYPE,
    strict: UNKNOWN_TYPE,
  },
  {
    name: 'birthDate as a number',
    line: json({ ...patient, birthDate: 42 }),
    minimal: true,
    structureOnly: 'Patient.birthDate: must be string (FHIR R4 JSON schema: type)',
    strict: 'Patient.birthDate: must be string (FHIR R4 JSON schema: type)',
  },
  {
    name: 'birthDate not a date',
    line: json({ ...patient, birthDate: '1984-13-40' }),
    minimal: true,
    structureOnly:
      'Patient.birthDate: must match pattern "^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$" (FHIR R4 JSON schema: pattern)',
    strict:
      'Patient.birthDate: must match pattern "^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$" (FHIR R4 JSON schema: pattern)',
  },
  {
    name: 'gender as an object',
    line: json({ ...patient, gender: {} }),
    minimal: true,
    structureOnly: 'Patient.gender: must be one of the codes the FHIR R4 JSON schema allows (enum)',
    strict: 'Patient.gender: must be one of the codes the FHIR R4 JSON schema allows (enum)',
  },
  {
    name: 'name as a string instead of an array',
    line: json({ ...patient, name: 'Quillfeather' }),
    minimal: true,
    structureOnly: 'Patient.name: must be array (FHIR R4 JSON schema: type)',
    strict: 'Patient.name: must be array (FHIR R4 JSON schema: type)',
  },
  {
    name: 'a string where a complex type belongs (type object added to the official schema)',
    line: json({ ...patient, name: ['Quillfeather'] }),
    minimal: true,
    structureOnly: 'Patient.name[0]: must be object (FHIR R4 JSON schema: type)',
    strict: 'Patient.name[0]: must be object (FHIR R4 JSON schema: type)',
  },
  {
    name: 'unknown element',
    line: json({ ...patient, shoeSize: 9 }),
    minimal: true,
    structureOnly: 'Patient.shoeSize: unknown element (FHIR R4 JSON schema: additionalProperties)',
    strict: 'Patient.shoeSize: unknown element (FHIR R4 JSON schema: additionalProperties)',
  },
  {
    name: 'nested element of the wrong type',
    line: json({ ...patient, name: [{ family: 'Quillfeather', given: 'Odalys' }] }),
    minimal: true,
    structureOnly: 'Patient.name[0].given: must be array (FHIR R4 JSON schema: type)',
    strict: 'Patient.name[0].given: must be array (FHIR R4 JSON schema: type)',
  },
  {
    name: 'Observation without code (complex element, required in the schema)',
    line: json({ ...observation, code: undefined }),
    minimal: true,
    structureOnly: 'Observation.code: required element is missing (FHIR R4 JSON schema: required)',
    strict: 'Observation.code: required element is missing (FHIR R4 JSON schema: required)',
  },
  {
    name: 'Observation without status (primitive 1..1: only strict requires it)',
    line: json({ ...observation, status: undefined }),
    minimal: true,
    structureOnly: true,
    strict: 'Observation.status: required element is missing (StructureDefinition: min 1)',
  },
  {
    name: 'two types of one choice element',
    line: json({ ...observation, valueString: 'high' }),
    minimal: true,
    structureOnly: true,
    strict: 'Observation.value[x]: only one type of a choice element may be present',
  },
  {
    name: 'empty array',
    line: json({ ...patient, name: [] }),
    minimal: true,
    structureOnly: true,
    strict: 'Patient.name: array must not be empty (ele-1)',
  },
  {
    name: 'empty object',
    line: json({ ...observation, subject: {} }),
    minimal: true,
    structureOnly: true,
    strict: 'Observation.subject: element must have a value or children (ele-1)',
  },
  {
    name: 'data type rule inside a backbone element (Extension.url is 1..1)',
    line: json({ ...patient, contact: [{ extension: [{ valueString: 'x' }], gender: 'male' }] }),
    minimal: true,
    structureOnly: true,
    strict: 'Patient.contact[0].extension[0].url: required element is missing (StructureDefinition: min 1)',
  },
  {
    name: 'contained resource checked against its own type',
    line: json({ ...patient, contained: [{ resourceType: 'Organization', id: 'org1', active: 'yes' }] }),
    minimal: true,
    structureOnly: 'Patient.contained[0].active: must be boolean (FHIR R4 JSON schema: type)',
    strict: 'Patient.contained[0].active: must be boolean (FHIR R4 JSON schema: type)',
  },
  {
    name: 'contained resource of an unknown type',
    line: json({ ...patient, contained: [{ resourceType: 'Spaceship', id: 's1' }] }),
    minimal: true,
    structureOnly: 'Patient.contained[0].resourceType: must be a FHIR R4 resource type',
    strict: 'Patient.contained[0].resourceType: must be a FHIR R4 resource type',
  },
  {
    name: 'strict rule inside a contained resource',
    line: json({
      ...patient,
      contained: [{ ...observation, id: 'c1', subject: undefined, status: undefined }],
    }),
    minimal: true,
    structureOnly: true,
    strict: 'Patient.contained[0].status: required element is missing (StructureDefinition: min 1)',
  },
];

const LEVEL_FIELD: Record<ValidationLevel, 'minimal' | 'structureOnly' | 'strict'> = {
  minimal: 'minimal',
  'structure-only': 'structureOnly',
  strict: 'strict',
};

describe('checkResourceLine', () => {
  for (const testCase of cases) {
    for (const level of VALIDATION_LEVELS) {
      const expected = testCase[LEVEL_FIELD[level]];
      it(`${level}: ${testCase.name} → ${expected === true ? 'accepted' : 'rejected'}`, () => {
        const check = checkResourceLine(testCase.line, level);
        if (expected === true) {
          assert.ok(check.ok, check.ok ? '' : JSON.stringify(check.outcome));
          const parsed = JSON.parse(testCase.line) as { resourceType: string; id: string };
          assert.equal(check.resourceType, parsed.resourceType);
          assert.equal(check.id, parsed.id);
          assert.deepEqual(check.resource, parsed);
          return;
        }
        assert.equal(check.ok, false);
        if (check.ok) return;
        assert.equal(check.statusCode, 400);
        assert.equal(check.outcome.resourceType, 'OperationOutcome');
        assert.deepEqual(
          check.outcome.issue.map((i) => i.diagnostics),
          [expected],
        );
        const [first] = check.outcome.issue;
        assert.equal(first?.severity, 'error');
        assert.deepEqual(first?.expression, [expected.slice(0, expected.indexOf(':'))]);
      });
    }
  }

  it('never echoes a value from the line (no PHI in outcomes)', () => {
    const secrets = ['Quillfeather', 'Odalys', '1984-13-40', 'Spaceship', 'a/b'];
    const lines = [
      json({ ...patient, birthDate: '1984-13-40' }),
      json({ ...patient, gender: 'Quillfeather' }),
      json({ resourceType: 'Spaceship', id: 'Odalys' }),
      json({ ...patient, id: 'a/b' }),
      '{"resourceType":"Patient","name":"Quillfeather" "x"}',
    ];
    for (const line of lines) {
      const check = checkResourceLine(line, 'strict');
      assert.equal(check.ok, false);
      const text = JSON.stringify(check);
      for (const secret of secrets) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
  });

  it('uses the R4 resource types from the official StructureDefinitions', () => {
    const types = fhirR4ResourceTypes();
    assert.equal(types.size, 146);
    for (const type of ['Patient', 'Observation', 'Bundle', 'MedicationRequest', 'Parameters']) {
      assert.ok(types.has(type), type);
    }
    for (const type of ['Resource', 'DomainResource', 'Bot', 'Project', 'SubscriptionStatus']) {
      assert.ok(!types.has(type), type);
    }
  });

  it('knows the three levels and nothing else', () => {
    assert.deepEqual(VALIDATION_LEVELS, ['strict', 'structure-only', 'minimal']);
    assert.deepEqual(['strict', 'structure-only', 'minimal', 'STRICT', '', 3].map(isValidationLevel), [
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
