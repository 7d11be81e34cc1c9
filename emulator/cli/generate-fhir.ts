// `healthlake-emulator generate-fhir` (also `temporal-healthlake generate-fhir`): writes deterministic synthetic FHIR R4 NDJSON to a local
// folder or an S3 prefix and prints the exact counts a later import should report. Progress goes
// to stderr (every --progress-every patients, and per file written) so stdout stays one JSON.
import {
  generateFhirData,
  GenerateFhirOptionError,
  writeFhirDataToDir,
  writeFhirDataToS3,
  type GenerateFhirOptions,
} from '../fhir/generate';
import { createS3Client, S3UriError } from '../s3';
import {
  checkEndpointFlag,
  EndpointFlagError,
  parseFlags,
  printUsageError,
  type EmulatorCommand,
} from './command';

const PREFIX = 'generate-fhir: ';
/** Exit code for a problem the user must fix: a flag, an out-of-range count, a bad URI. */
const EXIT_USAGE = 2;

/** The library's option names as this command's flags, so an error names what the user typed. */
const FLAG_FOR_OPTION: Partial<Record<keyof GenerateFhirOptions, string>> = {
  patients: '--patients',
  invalidRate: '--invalid-rate',
  seed: '--seed',
  maxFileBytes: '--max-file-bytes',
  resourcesPerFile: '--resources-per-file',
  progressEveryPatients: '--progress-every',
};

const progressLine = (text: string): void => {
  process.stderr.write(`${PREFIX}${text}\n`);
};

function numberFlag(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new GenerateFhirOptionError(`--${name}`, text, 'a number');
  }
  return value;
}

export const generateFhirCommand: EmulatorCommand = {
  async run(args) {
    const values = parseFlags(PREFIX, args, {
      patients: { type: 'string' },
      out: { type: 'string' },
      'invalid-rate': { type: 'string' },
      seed: { type: 'string' },
      's3-endpoint': { type: 'string' },
      'max-file-bytes': { type: 'string' },
      'resources-per-file': { type: 'string' },
      'progress-every': { type: 'string' },
    });
    if (values === undefined) return EXIT_USAGE;
    if (values.patients === undefined || values.out === undefined) {
      printUsageError(PREFIX, '--patients and --out are required');
      return EXIT_USAGE;
    }
    try {
      const s3Endpoint = checkEndpointFlag('--s3-endpoint', values['s3-endpoint']);
      const data = generateFhirData({
        patients: numberFlag('patients', values.patients) ?? 0,
        invalidRate: numberFlag('invalid-rate', values['invalid-rate']),
        seed: numberFlag('seed', values.seed),
        maxFileBytes: numberFlag('max-file-bytes', values['max-file-bytes']),
        resourcesPerFile: numberFlag('resources-per-file', values['resources-per-file']),
        progressEveryPatients: numberFlag('progress-every', values['progress-every']),
        onProgress: ({ patientsGenerated, patients }) =>
          progressLine(`generated ${patientsGenerated}/${patients} patients`),
      });
      const onFileWritten = (written: number, files: number): void =>
        progressLine(`wrote ${written}/${files} files`);
      const out = values.out;
      let written: string[];
      // Anything that starts like a URI goes to S3, so `s3:/typo` fails loudly, not as a folder.
      if (/^s3:/i.test(out)) {
        const s3 = createS3Client({ endpoint: s3Endpoint });
        try {
          written = await writeFhirDataToS3(data, s3, out, { onFileWritten });
        } finally {
          s3.destroy();
        }
      } else {
        written = await writeFhirDataToDir(data, out, { onFileWritten });
      }
      console.log(JSON.stringify({ out, written, ...data.counts }, null, 2));
      return 0;
    } catch (err) {
      if (err instanceof GenerateFhirOptionError) {
        const flag = FLAG_FOR_OPTION[err.option as keyof GenerateFhirOptions] ?? err.option;
        printUsageError(PREFIX, new GenerateFhirOptionError(flag, err.value, err.rule).message);
        return EXIT_USAGE;
      }
      if (err instanceof S3UriError || err instanceof EndpointFlagError) {
        printUsageError(PREFIX, err.message);
        return EXIT_USAGE;
      }
      throw err;
    }
  },
};
