// `temporal-healthlake generate-fhir`: writes deterministic synthetic FHIR R4 NDJSON to a local
// folder or an S3 prefix and prints the exact counts a later import should report.
import { parseArgs } from 'node:util';
import type { Command } from './commands';
import {
  generateFhirData,
  GenerateFhirOptionError,
  writeFhirDataToDir,
  writeFhirDataToS3,
} from '../emulator/fhir/generate';
import { createS3Client, S3UriError } from '../emulator/s3';

const USAGE =
  'usage: temporal-healthlake generate-fhir --patients <n> --out <dir-or-s3-uri> ' +
  '[--invalid-rate <0..1>] [--seed <n>] [--s3-endpoint <url>] [--max-file-bytes <n>] [--resources-per-file <n>]';

function numberFlag(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) {
    throw new GenerateFhirOptionError(`--${name}`, text, 'a number');
  }
  return value;
}

export const generateFhirCommand: Command = {
  summary: 'write synthetic FHIR R4 NDJSON (linked, deterministic) to a folder or s3:// prefix',
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
        },
      }));
    } catch (err) {
      console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
      return 2;
    }
    if (values.patients === undefined || values.out === undefined) {
      console.error(`--patients and --out are required\n${USAGE}`);
      return 2;
    }
    try {
      const data = generateFhirData({
        patients: numberFlag('patients', values.patients) ?? 0,
        invalidRate: numberFlag('invalid-rate', values['invalid-rate']),
        seed: numberFlag('seed', values.seed),
        maxFileBytes: numberFlag('max-file-bytes', values['max-file-bytes']),
        resourcesPerFile: numberFlag('resources-per-file', values['resources-per-file']),
      });
      const out = values.out;
      let written: string[];
      // Anything that starts like a URI goes to S3, so `s3:/typo` fails loudly, not as a folder.
      if (/^s3:/i.test(out)) {
        const s3 = createS3Client({ endpoint: values['s3-endpoint'] });
        try {
          written = await writeFhirDataToS3(data, s3, out);
        } finally {
          s3.destroy();
        }
      } else {
        written = await writeFhirDataToDir(data, out);
      }
      console.log(JSON.stringify({ out, written, ...data.counts }, null, 2));
      return 0;
    } catch (err) {
      if (err instanceof GenerateFhirOptionError || err instanceof S3UriError) {
        console.error(`${err.message}\n${USAGE}`);
        return 2;
      }
      throw err;
    }
  },
};
