// Deterministic synthetic FHIR R4 data for tests, the demo and the benchmark: linked, realistic
// resources in NDJSON files, with an exact number of deliberately broken lines when asked.
// Every name, address and identifier is made up from syllables and reserved ranges: no real PHI.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { ensureBucket, joinS3Key, parseS3Uri, putObjectText } from '../s3';
import type { ValidationLevel } from './validate';

/** How a broken line is broken. */
export const BrokenLineKind = {
  /** Cut in half: not JSON. Rejected at every level. */
  badJson: 'bad-json',
  /** No `id`. Rejected at every level. */
  missingId: 'missing-id',
  /** A `resourceType` that matches `[A-Za-z]+` but is not FHIR R4. Rejected from structure-only. */
  unknownResourceType: 'unknown-resource-type',
  /** An element of the wrong JSON type (`birthDate: 42`, `gender: {}`). Rejected from structure-only. */
  wrongElementType: 'wrong-element-type',
} as const;
export type BrokenLineKind = (typeof BrokenLineKind)[keyof typeof BrokenLineKind];
export const BROKEN_LINE_KINDS: readonly BrokenLineKind[] = Object.values(BrokenLineKind);

/** The kinds that `minimal` validation also rejects; the others pass it. */
export const KINDS_REJECTED_BY_MINIMAL: readonly BrokenLineKind[] = [
  BrokenLineKind.badJson,
  BrokenLineKind.missingId,
];

/** Thrown for an option outside its range; names the option, the value and the rule. */
export class GenerateFhirOptionError extends Error {
  override readonly name = 'GenerateFhirOptionError';
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly rule: string,
  ) {
    super(`${option} ${typeof value === 'string' ? JSON.stringify(value) : String(value)} must be ${rule}`);
  }
}

export interface GenerateFhirOptions {
  /** Number of patients; each brings encounters, observations, conditions, medications. */
  readonly patients: number;
  /** PRNG seed (a 32-bit integer): the same seed and options give byte-identical files. @default 1 */
  readonly seed?: number;
  /** Fraction of lines to break, 0..1; exactly `round(rate × lines)` lines are broken. @default 0 */
  readonly invalidRate?: number;
  /** Start a new file before one would exceed this many bytes. @default 10_485_760 (10 MiB) */
  readonly maxFileBytes?: number;
  /** Start a new file after this many lines. @default unlimited */
  readonly resourcesPerFile?: number;
  /** File names are `<filePrefix>-00001.ndjson`, ... @default 'synthetic-fhir' */
  readonly filePrefix?: string;
  /** Called every `progressEveryPatients` patients and after the last one (a large run takes minutes). @default none */
  readonly onProgress?: (progress: GenerateFhirProgress) => void;
  /** How many patients between two `onProgress` calls. @default 1_000 */
  readonly progressEveryPatients?: number;
}

/** How far `generateFhirData` has come. */
export interface GenerateFhirProgress {
  readonly patientsGenerated: number;
  readonly patients: number;
}

/**
 * The most patients one `generateFhirData` call makes. The whole data set is held in memory
 * (about 13 KB of NDJSON and 50 KB of process memory per patient: 20,000 patients are ~250 MB of
 * NDJSON and ~1 GB resident), so the bound keeps a typo like `100000000` from running for hours
 * into an out-of-memory crash. For more, call it again with another `seed` and `filePrefix`.
 */
export const MAX_GENERATED_PATIENTS = 20_000;

const DEFAULT_PROGRESS_EVERY_PATIENTS = 1_000;

/** One NDJSON file: every line ends with `\n`. */
export interface GeneratedFile {
  readonly name: string;
  readonly content: string;
  readonly lines: number;
  /** UTF-8 size of `content`. */
  readonly bytes: number;
  /** 1-based numbers of the broken lines in this file. */
  readonly invalidLineNumbers: readonly number[];
}

export interface GeneratedFhirCounts {
  /** Lines written, broken or not (one resource per line). */
  readonly resources: number;
  readonly validLines: number;
  readonly invalidLines: number;
  /** Valid lines per resource type: what an import creates. */
  readonly byType: Readonly<Record<string, number>>;
  readonly invalidByKind: Readonly<Record<BrokenLineKind, number>>;
  /** Broken lines each validation level rejects (minimal misses some kinds). */
  readonly invalidByLevel: Readonly<Record<ValidationLevel, number>>;
  /** UTF-8 bytes over all files. */
  readonly bytes: number;
  readonly files: number;
}

export interface GeneratedFhirData {
  readonly files: readonly GeneratedFile[];
  readonly counts: GeneratedFhirCounts;
  /** Ids of every generated Patient (valid or broken). */
  readonly patientIds: readonly string[];
}

const DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024;
const DEFAULT_FILE_PREFIX = 'synthetic-fhir';
const DAY_MS = 86_400_000;
/** Clinical dates fall before this fixed day, so output does not depend on the clock. */
const REFERENCE_DAY_MS = Date.UTC(2025, 0, 1);

// --- deterministic randomness -----------------------------------------------------------------

/** mulberry32: a small, fast 32-bit PRNG; good enough for test data, not for cryptography. */
export function createPrng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Random {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = createPrng(seed);
  }
  float(): number {
    return this.next();
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  chance(probability: number): boolean {
    return this.next() < probability;
  }
  /** Fisher-Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }
  hex(length: number): string {
    let out = '';
    while (out.length < length)
      out += Math.floor(this.next() * 0x100000000)
        .toString(16)
        .padStart(8, '0');
    return out.slice(0, length);
  }
}

// --- vocabularies (codes are real code systems; display texts as the systems spell them) ------

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const UCUM = 'http://unitsofmeasure.org';
const TERMINOLOGY = 'http://terminology.hl7.org/CodeSystem';
const MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.19.5.99999.1';

interface Vital {
  readonly code: string;
  readonly display: string;
  readonly unit: string;
  readonly min: number;
  readonly max: number;
  readonly decimals: number;
  readonly category: 'vital-signs' | 'laboratory';
}
const VITALS: readonly Vital[] = [
  {
    code: '8867-4',
    display: 'Heart rate',
    unit: '/min',
    min: 52,
    max: 110,
    decimals: 0,
    category: 'vital-signs',
  },
  {
    code: '9279-1',
    display: 'Respiratory rate',
    unit: '/min',
    min: 11,
    max: 22,
    decimals: 0,
    category: 'vital-signs',
  },
  {
    code: '8310-5',
    display: 'Body temperature',
    unit: 'Cel',
    min: 36.1,
    max: 38.4,
    decimals: 1,
    category: 'vital-signs',
  },
  {
    code: '29463-7',
    display: 'Body weight',
    unit: 'kg',
    min: 48,
    max: 120,
    decimals: 1,
    category: 'vital-signs',
  },
  {
    code: '8302-2',
    display: 'Body height',
    unit: 'cm',
    min: 150,
    max: 198,
    decimals: 1,
    category: 'vital-signs',
  },
  {
    code: '39156-5',
    display: 'Body mass index (BMI) [Ratio]',
    unit: 'kg/m2',
    min: 18,
    max: 38,
    decimals: 1,
    category: 'vital-signs',
  },
  {
    code: '2339-0',
    display: 'Glucose [Mass/volume] in Blood',
    unit: 'mg/dL',
    min: 70,
    max: 180,
    decimals: 0,
    category: 'laboratory',
  },
  {
    code: '4548-4',
    display: 'Hemoglobin A1c/Hemoglobin.total in Blood',
    unit: '%',
    min: 4.6,
    max: 9.5,
    decimals: 1,
    category: 'laboratory',
  },
  {
    code: '2093-3',
    display: 'Cholesterol [Mass/volume] in Serum or Plasma',
    unit: 'mg/dL',
    min: 140,
    max: 260,
    decimals: 0,
    category: 'laboratory',
  },
  {
    code: '718-7',
    display: 'Hemoglobin [Mass/volume] in Blood',
    unit: 'g/dL',
    min: 11,
    max: 17,
    decimals: 1,
    category: 'laboratory',
  },
];

const CONDITIONS = [
  ['44054006', 'Diabetes mellitus type 2'],
  ['38341003', 'Hypertensive disorder, systemic arterial'],
  ['195967001', 'Asthma'],
  ['55822004', 'Hyperlipidemia'],
  ['40055000', 'Chronic sinusitis'],
  ['10509002', 'Acute bronchitis'],
  ['271737000', 'Anemia'],
  ['162864005', 'Body mass index 30+ - obesity'],
] as const;

const MEDICATIONS = [
  ['860975', 'metformin hydrochloride 500 MG Extended Release Oral Tablet'],
  ['314076', 'lisinopril 10 MG Oral Tablet'],
  ['617310', 'atorvastatin 20 MG Oral Tablet'],
  ['197361', 'amlodipine 5 MG Oral Tablet'],
  ['198211', 'simvastatin 40 MG Oral Tablet'],
  ['310798', 'hydrochlorothiazide 25 MG Oral Tablet'],
  ['745679', 'albuterol 0.09 MG/ACTUAT Metered Dose Inhaler'],
] as const;

const ENCOUNTER_TYPES = [
  ['185349003', 'Encounter for check up'],
  ['185345009', 'Encounter for symptom'],
  ['390906007', 'Follow-up encounter'],
  ['50849002', 'Emergency room admission'],
] as const;

const PROCEDURES = [
  ['430193006', 'Medication reconciliation'],
  ['710824005', 'Assessment of health and social care needs'],
  ['171207006', 'Depression screening'],
  ['428191000124101', 'Documentation of current medications'],
] as const;

const ALLERGIES = [
  ['300916003', 'Latex allergy', 'environment'],
  ['419474003', 'Allergy to mould', 'environment'],
  ['91935009', 'Allergy to peanuts', 'food'],
  ['294505008', 'Allergy to amoxicillin', 'medication'],
] as const;

// Syllables for made-up names and places; a few carry diacritics, so files hold multi-byte UTF-8.
const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ra',
  'ven',
  'tor',
  'sa',
  'bel',
  'dun',
  'ri',
  'mo',
  'zé',
  'quin',
  'thar',
  'ö',
  'nel',
];
const STREET_SUFFIXES = ['Street', 'Avenue', 'Lane', 'Road', 'Way'];
const PLACE_SUFFIXES = ['ville', 'ford', 'ton', 'haven', 'field'];
const STATES = ['MA', 'NY', 'CA', 'TX', 'WA', 'IL', 'OH', 'GA'];

// --- resource builders ------------------------------------------------------------------------

type Json = Record<string, unknown>;

class FhirFactory {
  private sequence = 0;
  constructor(private readonly random: Random) {}

  /** A UUID-shaped id; the tail is a counter, so ids never repeat within one data set. */
  id(): string {
    const r = this.random.hex(20);
    const tail = (this.sequence++).toString(16).padStart(12, '0');
    return `${r.slice(0, 8)}-${r.slice(8, 12)}-4${r.slice(13, 16)}-${'89ab'[this.random.int(0, 3)]}${r.slice(17, 20)}-${tail}`;
  }

  word(syllables: number): string {
    let text = '';
    for (let i = 0; i < syllables; i++) text += this.random.pick(SYLLABLES);
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  dateTime(dayMs: number): string {
    const ms = dayMs + this.random.int(7, 18) * 3_600_000 + this.random.int(0, 59) * 60_000;
    return `${new Date(ms).toISOString().slice(0, 19)}Z`;
  }

  date(dayMs: number): string {
    return new Date(dayMs).toISOString().slice(0, 10);
  }

  concept(system: string, code: string, display: string): Json {
    return { coding: [{ system, code, display }], text: display };
  }

  organization(): Json {
    const city = `${this.word(2)}${this.random.pick(PLACE_SUFFIXES)}`;
    return {
      resourceType: 'Organization',
      id: this.id(),
      active: true,
      type: [this.concept(`${TERMINOLOGY}/organization-type`, 'prov', 'Healthcare Provider')],
      name: `${city} Community Clinic`,
      telecom: [{ system: 'phone', value: `555-01${String(this.random.int(0, 99)).padStart(2, '0')}` }],
      address: [this.address(city)],
    };
  }

  practitioner(): Json {
    return {
      resourceType: 'Practitioner',
      id: this.id(),
      active: true,
      identifier: [
        { system: 'http://hl7.org/fhir/sid/us-npi', value: `99${this.random.int(10_000_000, 99_999_999)}` },
      ],
      name: [{ family: this.word(3), given: [this.word(2)], prefix: ['Dr.'] }],
      gender: this.random.pick(['female', 'male']),
    };
  }

  address(city: string): Json {
    return {
      use: 'home',
      line: [`${this.random.int(1, 999)} ${this.word(2)} ${this.random.pick(STREET_SUFFIXES)}`],
      city,
      state: this.random.pick(STATES),
      postalCode: String(this.random.int(10_000, 99_999)),
      country: 'US',
    };
  }

  patient(): Json {
    const gender = this.random.pick(['female', 'male']);
    const birthDay = REFERENCE_DAY_MS - this.random.int(365 * 2, 365 * 95) * DAY_MS;
    const married = this.random.chance(0.5);
    return {
      resourceType: 'Patient',
      id: this.id(),
      identifier: [
        {
          type: this.concept(`${TERMINOLOGY}/v2-0203`, 'MR', 'Medical Record Number'),
          system: MRN_SYSTEM,
          value: `MRN${this.random.int(1_000_000, 9_999_999)}`,
        },
      ],
      active: true,
      name: [{ use: 'official', family: this.word(3), given: [this.word(2), this.word(2)] }],
      telecom: [
        { system: 'phone', value: `555-01${String(this.random.int(0, 99)).padStart(2, '0')}`, use: 'home' },
      ],
      gender,
      birthDate: this.date(birthDay),
      address: [this.address(`${this.word(2)}${this.random.pick(PLACE_SUFFIXES)}`)],
      maritalStatus: this.concept(
        `${TERMINOLOGY}/v3-MaritalStatus`,
        married ? 'M' : 'S',
        married ? 'Married' : 'Never Married',
      ),
      communication: [{ language: this.concept('urn:ietf:bcp:47', 'en-US', 'English (United States)') }],
    };
  }

  encounter(patientRef: string, practitionerRef: string, organizationRef: string, dayMs: number): Json {
    const [code, display] = this.random.pick(ENCOUNTER_TYPES);
    const start = this.dateTime(dayMs);
    const end =
      new Date(Date.parse(start) + this.random.int(15, 90) * 60_000).toISOString().slice(0, 19) + 'Z';
    const emergency = code === '50849002';
    return {
      resourceType: 'Encounter',
      id: this.id(),
      status: 'finished',
      class: {
        system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
        code: emergency ? 'EMER' : 'AMB',
        display: emergency ? 'emergency' : 'ambulatory',
      },
      type: [this.concept(SNOMED, code, display)],
      subject: { reference: patientRef },
      participant: [{ individual: { reference: practitionerRef } }],
      period: { start, end },
      serviceProvider: { reference: organizationRef },
    };
  }

  observation(patientRef: string, encounterRef: string, when: string): Json {
    const vital = this.random.pick(VITALS);
    const value = Number((vital.min + this.random.float() * (vital.max - vital.min)).toFixed(vital.decimals));
    return {
      resourceType: 'Observation',
      id: this.id(),
      status: 'final',
      category: [
        this.concept(
          `${TERMINOLOGY}/observation-category`,
          vital.category,
          vital.category === 'vital-signs' ? 'Vital Signs' : 'Laboratory',
        ),
      ],
      code: this.concept(LOINC, vital.code, vital.display),
      subject: { reference: patientRef },
      encounter: { reference: encounterRef },
      effectiveDateTime: when,
      issued: `${when.slice(0, 19)}.000Z`,
      valueQuantity: { value, unit: vital.unit, system: UCUM, code: vital.unit },
    };
  }

  bloodPressure(patientRef: string, encounterRef: string, when: string): Json {
    const systolic = this.random.int(100, 160);
    const component = (code: string, display: string, value: number): Json => ({
      code: this.concept(LOINC, code, display),
      valueQuantity: { value, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' },
    });
    return {
      resourceType: 'Observation',
      id: this.id(),
      status: 'final',
      category: [this.concept(`${TERMINOLOGY}/observation-category`, 'vital-signs', 'Vital Signs')],
      code: this.concept(LOINC, '85354-9', 'Blood pressure panel with all children optional'),
      subject: { reference: patientRef },
      encounter: { reference: encounterRef },
      effectiveDateTime: when,
      component: [
        component('8480-6', 'Systolic blood pressure', systolic),
        component('8462-4', 'Diastolic blood pressure', systolic - this.random.int(30, 50)),
      ],
    };
  }

  condition(patientRef: string, encounterRef: string, when: string): Json {
    const [code, display] = this.random.pick(CONDITIONS);
    return {
      resourceType: 'Condition',
      id: this.id(),
      clinicalStatus: this.concept(`${TERMINOLOGY}/condition-clinical`, 'active', 'Active'),
      verificationStatus: this.concept(`${TERMINOLOGY}/condition-ver-status`, 'confirmed', 'Confirmed'),
      category: [
        this.concept(`${TERMINOLOGY}/condition-category`, 'encounter-diagnosis', 'Encounter Diagnosis'),
      ],
      code: this.concept(SNOMED, code, display),
      subject: { reference: patientRef },
      encounter: { reference: encounterRef },
      onsetDateTime: when,
      recordedDate: when,
    };
  }

  medicationRequest(patientRef: string, encounterRef: string, practitionerRef: string, when: string): Json {
    const [code, display] = this.random.pick(MEDICATIONS);
    const perDay = this.random.int(1, 2);
    return {
      resourceType: 'MedicationRequest',
      id: this.id(),
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: this.concept(RXNORM, code, display),
      subject: { reference: patientRef },
      encounter: { reference: encounterRef },
      authoredOn: when,
      requester: { reference: practitionerRef },
      dosageInstruction: [
        {
          sequence: 1,
          text: perDay === 1 ? 'Take 1 tablet by mouth once daily' : 'Take 1 tablet by mouth twice daily',
          timing: { repeat: { frequency: perDay, period: 1, periodUnit: 'd' } },
          route: this.concept(SNOMED, '26643006', 'Oral route'),
        },
      ],
    };
  }

  procedure(patientRef: string, encounterRef: string, when: string): Json {
    const [code, display] = this.random.pick(PROCEDURES);
    return {
      resourceType: 'Procedure',
      id: this.id(),
      status: 'completed',
      code: this.concept(SNOMED, code, display),
      subject: { reference: patientRef },
      encounter: { reference: encounterRef },
      performedDateTime: when,
    };
  }

  allergy(patientRef: string, when: string): Json {
    const [code, display, category] = this.random.pick(ALLERGIES);
    return {
      resourceType: 'AllergyIntolerance',
      id: this.id(),
      clinicalStatus: this.concept(`${TERMINOLOGY}/allergyintolerance-clinical`, 'active', 'Active'),
      verificationStatus: this.concept(
        `${TERMINOLOGY}/allergyintolerance-verification`,
        'confirmed',
        'Confirmed',
      ),
      type: 'allergy',
      category: [category],
      criticality: 'low',
      code: this.concept(SNOMED, code, display),
      patient: { reference: patientRef },
      recordedDate: when,
    };
  }
}

// --- broken lines -----------------------------------------------------------------------------

/** Per resource type, one element set to a value of the wrong JSON type. */
const WRONG_ELEMENT_TYPES: Readonly<Record<string, (resource: Json) => void>> = {
  Patient: (r) => {
    if (String(r.id).charCodeAt(0) % 2 === 0) r.birthDate = 42;
    else r.gender = {};
  },
  Encounter: (r) => {
    r.period = { start: 20210501 };
  },
  Observation: (r) => {
    r.effectiveDateTime = 1_620_000_000;
  },
  Condition: (r) => {
    r.onsetDateTime = 42;
  },
  MedicationRequest: (r) => {
    r.authoredOn = 42;
  },
  Procedure: (r) => {
    r.status = { code: 'completed' };
  },
  AllergyIntolerance: (r) => {
    r.criticality = {};
  },
  Practitioner: (r) => {
    r.active = 'yes';
  },
  Organization: (r) => {
    r.active = 'yes';
  },
};

/** `[A-Za-z]+` names that are not FHIR R4 resource types (some are near misses). */
const UNKNOWN_RESOURCE_TYPES = ['Patients', 'Vitals', 'LabResult', 'Prescription', 'Spaceship'];

function breakLine(resource: Json, kind: BrokenLineKind, random: Random): string {
  switch (kind) {
    case BrokenLineKind.badJson: {
      const text = JSON.stringify(resource);
      return text.slice(0, Math.floor(text.length / 2));
    }
    case BrokenLineKind.missingId: {
      const { id: _id, ...rest } = resource;
      return JSON.stringify(rest);
    }
    case BrokenLineKind.unknownResourceType:
      return JSON.stringify({ ...resource, resourceType: random.pick(UNKNOWN_RESOURCE_TYPES) });
    case BrokenLineKind.wrongElementType: {
      const broken = structuredClone(resource);
      WRONG_ELEMENT_TYPES[String(resource.resourceType)]?.(broken);
      return JSON.stringify(broken);
    }
  }
}

/**
 * Break order: leaf resources first, Patients last, so that at moderate rates every valid
 * resource's references still point at valid resources.
 */
const BREAK_TIER: Readonly<Record<string, number>> = {
  Observation: 0,
  Condition: 0,
  MedicationRequest: 0,
  Procedure: 0,
  AllergyIntolerance: 0,
  Encounter: 1,
  Practitioner: 2,
  Organization: 2,
  Patient: 3,
};

// --- generation -------------------------------------------------------------------------------

function checkOptions(options: GenerateFhirOptions): void {
  if (!Number.isSafeInteger(options.patients) || options.patients < 1) {
    throw new GenerateFhirOptionError('patients', options.patients, 'an integer ≥ 1');
  }
  if (options.patients > MAX_GENERATED_PATIENTS) {
    throw new GenerateFhirOptionError(
      'patients',
      options.patients,
      `at most ${MAX_GENERATED_PATIENTS} (the data set is built in memory; generate more in several runs with different seeds)`,
    );
  }
  const every = options.progressEveryPatients;
  if (every !== undefined && (!Number.isSafeInteger(every) || every < 1)) {
    throw new GenerateFhirOptionError('progressEveryPatients', every, 'an integer ≥ 1');
  }
  const rate = options.invalidRate ?? 0;
  if (!(rate >= 0 && rate <= 1)) throw new GenerateFhirOptionError('invalidRate', rate, 'a number in 0..1');
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new GenerateFhirOptionError('seed', seed, 'an integer');
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  if (!Number.isSafeInteger(maxFileBytes) || maxFileBytes < 1) {
    throw new GenerateFhirOptionError('maxFileBytes', maxFileBytes, 'an integer ≥ 1');
  }
  const perFile = options.resourcesPerFile;
  if (perFile !== undefined && (!Number.isSafeInteger(perFile) || perFile < 1)) {
    throw new GenerateFhirOptionError('resourcesPerFile', perFile, 'an integer ≥ 1');
  }
  if (options.filePrefix !== undefined && !/^[A-Za-z0-9._-]+$/.test(options.filePrefix)) {
    throw new GenerateFhirOptionError(
      'filePrefix',
      options.filePrefix,
      'made of A-Z, a-z, 0-9, ".", "_", "-"',
    );
  }
}

function generateResources(
  patients: number,
  random: Random,
  progress: Pick<GenerateFhirOptions, 'onProgress' | 'progressEveryPatients'>,
): { resources: Json[]; patientIds: string[] } {
  const every = progress.progressEveryPatients ?? DEFAULT_PROGRESS_EVERY_PATIENTS;
  const factory = new FhirFactory(random);
  const organizations = Array.from({ length: Math.max(1, Math.ceil(patients / 50)) }, () =>
    factory.organization(),
  );
  const practitioners = Array.from({ length: Math.max(1, Math.ceil(patients / 10)) }, () =>
    factory.practitioner(),
  );
  const resources: Json[] = [...organizations, ...practitioners];
  const patientIds: string[] = [];
  const ref = (r: Json): string => `${String(r.resourceType)}/${String(r.id)}`;

  for (let p = 0; p < patients; p++) {
    const patient = factory.patient();
    patientIds.push(String(patient.id));
    resources.push(patient);
    const patientRef = ref(patient);
    const organizationRef = ref(random.pick(organizations));
    const practitionerRef = ref(random.pick(practitioners));
    const encounters = random.int(1, 4);
    for (let e = 0; e < encounters; e++) {
      const day = REFERENCE_DAY_MS - random.int(1, 365 * 8) * DAY_MS;
      const encounter = factory.encounter(patientRef, practitionerRef, organizationRef, day);
      resources.push(encounter);
      const encounterRef = ref(encounter);
      const when = String((encounter.period as Json).start);
      resources.push(factory.bloodPressure(patientRef, encounterRef, when));
      const observations = random.int(1, 5);
      for (let o = 0; o < observations; o++)
        resources.push(factory.observation(patientRef, encounterRef, when));
      if (random.chance(0.35)) resources.push(factory.condition(patientRef, encounterRef, when));
      if (random.chance(0.3))
        resources.push(factory.medicationRequest(patientRef, encounterRef, practitionerRef, when));
      if (random.chance(0.2)) resources.push(factory.procedure(patientRef, encounterRef, when));
      if (e === 0 && random.chance(0.15)) resources.push(factory.allergy(patientRef, when));
    }
    const generated = p + 1;
    if (generated % every === 0 || generated === patients)
      progress.onProgress?.({ patientsGenerated: generated, patients });
  }
  return { resources, patientIds };
}

/** Exactly `count` line indexes to break, lowest tier first, shuffled within a tier. */
function chooseBrokenLines(
  resources: readonly Json[],
  count: number,
  random: Random,
): Map<number, BrokenLineKind> {
  const tiers: number[][] = [];
  resources.forEach((resource, index) => {
    const tier = BREAK_TIER[String(resource.resourceType)] ?? 0;
    (tiers[tier] ??= []).push(index);
  });
  const chosen = new Map<number, BrokenLineKind>();
  for (const tier of tiers) {
    if (!tier || chosen.size === count) continue;
    for (const index of random.shuffle(tier).slice(0, count - chosen.size)) {
      // Cycle the kinds so every kind appears as soon as there are four broken lines.
      chosen.set(index, BROKEN_LINE_KINDS[chosen.size % BROKEN_LINE_KINDS.length] as BrokenLineKind);
    }
  }
  return chosen;
}

/**
 * Generates linked synthetic FHIR R4 resources: Organizations and Practitioners, then per
 * patient a Patient, 1–4 Encounters, each with a blood-pressure panel, 1–5 vital-sign or lab
 * Observations, and sometimes a Condition, MedicationRequest, Procedure, AllergyIntolerance;
 * all references are `Type/<id>` to resources in the same data set. Same options → byte-identical
 * files. About 13 KB of NDJSON per patient.
 *
 * @example
 * const data = generateFhirData({ patients: 100, seed: 7, invalidRate: 0.05, maxFileBytes: 1_000_000 });
 * await writeFhirDataToS3(data, s3, 's3://input-bucket/fhir/');
 * @throws GenerateFhirOptionError for an option outside its range.
 */
export function generateFhirData(options: GenerateFhirOptions): GeneratedFhirData {
  checkOptions(options);
  const random = new Random(options.seed ?? 1);
  const { resources, patientIds } = generateResources(options.patients, random, options);
  const invalidTarget = Math.round((options.invalidRate ?? 0) * resources.length);
  const broken = chooseBrokenLines(resources, invalidTarget, random);

  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const perFile = options.resourcesPerFile ?? Number.POSITIVE_INFINITY;
  const prefix = options.filePrefix ?? DEFAULT_FILE_PREFIX;
  const files: GeneratedFile[] = [];
  const byType: Record<string, number> = {};
  const invalidByKind = Object.fromEntries(BROKEN_LINE_KINDS.map((k) => [k, 0])) as Record<
    BrokenLineKind,
    number
  >;
  let lines: string[] = [];
  let invalidLineNumbers: number[] = [];
  let fileBytes = 0;
  let totalBytes = 0;

  const flush = (): void => {
    if (lines.length === 0) return;
    files.push({
      name: `${prefix}-${String(files.length + 1).padStart(5, '0')}.ndjson`,
      content: lines.join(''),
      lines: lines.length,
      bytes: fileBytes,
      invalidLineNumbers,
    });
    totalBytes += fileBytes;
    lines = [];
    invalidLineNumbers = [];
    fileBytes = 0;
  };

  resources.forEach((resource, index) => {
    const kind = broken.get(index);
    const line = `${kind ? breakLine(resource, kind, random) : JSON.stringify(resource)}\n`;
    const lineBytes = Buffer.byteLength(line);
    if (lines.length > 0 && (fileBytes + lineBytes > maxFileBytes || lines.length >= perFile)) flush();
    lines.push(line);
    fileBytes += lineBytes;
    if (kind) {
      invalidByKind[kind]++;
      invalidLineNumbers.push(lines.length);
    } else {
      const type = String(resource.resourceType);
      byType[type] = (byType[type] ?? 0) + 1;
    }
  });
  flush();

  const minimalRejects = KINDS_REJECTED_BY_MINIMAL.reduce((sum, kind) => sum + invalidByKind[kind], 0);
  return {
    files,
    patientIds,
    counts: {
      resources: resources.length,
      validLines: resources.length - broken.size,
      invalidLines: broken.size,
      byType: Object.fromEntries(Object.entries(byType).sort(([a], [b]) => a.localeCompare(b))),
      invalidByKind,
      invalidByLevel: { strict: broken.size, 'structure-only': broken.size, minimal: minimalRejects },
      bytes: totalBytes,
      files: files.length,
    },
  };
}

/** Options for writing generated files. */
export interface WriteFhirDataOptions {
  /** Called after each file is written, with how many of how many are done. @default none */
  readonly onFileWritten?: (filesWritten: number, files: number) => void;
}

/** Writes the files into a local folder (created if missing); returns their paths. */
export async function writeFhirDataToDir(
  data: GeneratedFhirData,
  dir: string,
  options: WriteFhirDataOptions = {},
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const file of data.files) {
    const path = join(dir, file.name);
    await writeFile(path, file.content, 'utf8');
    paths.push(path);
    options.onFileWritten?.(paths.length, data.files.length);
  }
  return paths;
}

/** Uploads the files under an `s3://bucket/prefix/` URI (bucket created if missing); returns the keys. */
export async function writeFhirDataToS3(
  data: GeneratedFhirData,
  s3: S3Client,
  uri: string,
  options: WriteFhirDataOptions = {},
): Promise<string[]> {
  const { bucket, prefix } = parseS3Uri(uri);
  await ensureBucket(s3, bucket);
  const keys = data.files.map((file) => joinS3Key(prefix, file.name));
  const UPLOAD_CONCURRENCY = 4;
  let uploaded = 0;
  for (let i = 0; i < data.files.length; i += UPLOAD_CONCURRENCY) {
    await Promise.all(
      data.files.slice(i, i + UPLOAD_CONCURRENCY).map(async (file, j) => {
        await putObjectText(s3, bucket, keys[i + j] as string, file.content);
        options.onFileWritten?.(++uploaded, data.files.length);
      }),
    );
  }
  return keys;
}
