// `healthlake-emulator generate-fhir` (also `temporal-healthlake generate-fhir`): writes deterministic synthetic FHIR R4 NDJSON to a local
// folder or an S3 prefix and prints the exact counts a later import should report. Progress goes
// to stderr (every --progress-every patients, and per file written) so stdout stays one JSON.
import { parseArgs } from 'node:util';
import {
  generateFhirData,
  GenerateFhirOptionError,
  writeFhirDataToDir,
  writeFhirDataToS3,
  type GenerateFhirOptions,
} from '../fhir/generate';
import { createS3Client, S3UriError } from '../s3';
import { checkEndpointFlag, EndpointFlagError, type EmulatorCommand } from './command';

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
  process.stderr.write(`generate-fhir: ${text}\n`);
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
    let values;
    try {
      ({ values } = parseArgs({
        args,
        strict: true,
        options: {
          patients: { type: 'string' },
          out: { type: 'string' },
          'invalid-rate': { type: 'string' },
          seed: { type: 'string' },
          's3-endpoint': { type: 'string' },
          'max-file-bytes': { type: 'string' },
          'resources-per-file': { type: 'string' },
          'progress-every': { type: 'string' },
        },
      }));
    } catch (err) {
      console.error(`generate-fhir: ${err instanceof Error ? err.message : String(err)} (see --help)`);
      return 2;
    }
    if (values.patients === undefined || values.out === undefined) {
      console.error(`generate-fhir: --patients and --out are required (see --help)`);
      return 2;
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
        console.error(
          `generate-fhir: ${new GenerateFhirOptionError(flag, err.value, err.rule).message} (see --help)`,
        );
        return 2;
      }
      if (err instanceof S3UriError || err instanceof EndpointFlagError) {
        console.error(`generate-fhir: ${err.message} (see --help)`);
        return 2;
      }
      throw err;
    }
  },
};
