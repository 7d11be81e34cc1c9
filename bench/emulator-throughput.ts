// Emulator import throughput: generates ~100 MB of synthetic FHIR NDJSON, lands it in a real
// S3-compatible server (moto), measures raw S3 read speed as the baseline, then imports it through
// the emulator over HTTP with the real HealthLake SDK client (speed limit off) at each validation
// level and prints MB/s, resources/s and the ratio to the baseline. Not a test: it prints numbers.
//
//   npm run bench:emulator -- [--megabytes 100] [--levels strict,structure-only,minimal]
//                             [--invalid-rate 0.01] [--seed 1] [--persist]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateFHIRDatastoreCommand,
  DescribeFHIRDatastoreCommand,
  DescribeFHIRImportJobCommand,
  HealthLakeClient,
  StartFHIRImportJobCommand,
  type ImportJobProperties,
} from '@aws-sdk/client-healthlake';
import { startEmulator, type EmulatorHandle } from '../emulator';
import { generateFhirData, writeFhirDataToS3, type GeneratedFhirData } from '../emulator/fhir/generate';
import { checkResourceLine, isValidationLevel, type ValidationLevel } from '../emulator/fhir/validate';
import { createS3Client, LOCAL_S3_CREDENTIALS, listObjects, readObjectLines } from '../emulator/s3';
import { startS3Server } from '../emulator/s3-server';

/** Measured on generated data: ~13 KB of NDJSON per patient. */
const BYTES_PER_PATIENT_ESTIMATE = 13_000;
const MB = 1_000_000;
const BUCKET = 'bench-fhir';
const INPUT_PREFIX = 'input/';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/HealthLakeImport';
const KMS_KEY_ID = 'arn:aws:kms:us-east-1:123456789012:key/bench';
const ACTIVE_POLL_MS = 100;

interface Options {
  readonly megabytes: number;
  readonly levels: readonly ValidationLevel[];
  readonly invalidRate: number;
  readonly seed: number;
  readonly persist: boolean;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      megabytes: { type: 'string', default: '100' },
      levels: { type: 'string', default: 'strict,structure-only,minimal' },
      'invalid-rate': { type: 'string', default: '0' },
      seed: { type: 'string', default: '1' },
      persist: { type: 'boolean', default: false },
    },
  });
  const levels = values.levels.split(',');
  for (const level of levels) {
    if (!isValidationLevel(level))
      throw new Error(`--levels "${level}" must be strict, structure-only or minimal`);
  }
  return {
    megabytes: Number(values.megabytes),
    levels: levels as ValidationLevel[],
    invalidRate: Number(values['invalid-rate']),
    seed: Number(values.seed),
    persist: values.persist,
  };
}

const seconds = (startMs: number): number => (performance.now() - startMs) / 1000;
const fixed = (n: number, digits = 1): string => n.toFixed(digits);

/** Reads every input object as the emulator must at least do: GetObject, body drained. */
async function rawRead(s3: S3Client, keys: readonly string[]): Promise<number> {
  let bytes = 0;
  for (const key of keys) {
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    for await (const chunk of object.Body as AsyncIterable<Uint8Array>) bytes += chunk.byteLength;
  }
  return bytes;
}

async function lineRead(s3: S3Client, keys: readonly string[]): Promise<number> {
  let lines = 0;
  for (const key of keys) for await (const _line of readObjectLines(s3, BUCKET, key)) lines++;
  return lines;
}

async function waitActive(healthLake: HealthLakeClient, datastoreId: string): Promise<void> {
  for (;;) {
    const { DatastoreProperties } = await healthLake.send(
      new DescribeFHIRDatastoreCommand({ DatastoreId: datastoreId }),
    );
    if (DatastoreProperties?.DatastoreStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, ACTIVE_POLL_MS));
  }
}

async function importOnce(
  emulator: EmulatorHandle,
  healthLake: HealthLakeClient,
  level: ValidationLevel,
  run: number,
): Promise<{ wallSeconds: number; job: ImportJobProperties }> {
  const { DatastoreId } = await healthLake.send(
    new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4', DatastoreName: `bench-${run}` }),
  );
  await waitActive(healthLake, DatastoreId!);
  const started = performance.now();
  const { JobId } = await healthLake.send(
    new StartFHIRImportJobCommand({
      DatastoreId,
      JobName: `bench-${level}`,
      InputDataConfig: { S3Uri: `s3://${BUCKET}/${INPUT_PREFIX}` },
      JobOutputDataConfig: {
        S3Configuration: { S3Uri: `s3://${BUCKET}/output/${run}/`, KmsKeyId: KMS_KEY_ID },
      },
      DataAccessRoleArn: ROLE_ARN,
      ValidationLevel: level,
    }),
  );
  await emulator.jobsSettled();
  const wallSeconds = seconds(started);
  const { ImportJobProperties } = await healthLake.send(
    new DescribeFHIRImportJobCommand({ DatastoreId, JobId }),
  );
  return { wallSeconds, job: ImportJobProperties! };
}

async function main(): Promise<void> {
  const options = readOptions();
  console.log(
    `emulator import throughput: ${options.megabytes} MB target, levels ${options.levels.join(', ')}`,
  );

  const s3Server = await startS3Server();
  const s3 = createS3Client({ endpoint: s3Server.endpoint });
  const dataDir = options.persist ? mkdtempSync(join(tmpdir(), 'bench-emulator-')) : undefined;
  let emulator: EmulatorHandle | undefined;
  try {
    let t = performance.now();
    let data: GeneratedFhirData | undefined = generateFhirData({
      patients: Math.max(1, Math.round((options.megabytes * MB) / BYTES_PER_PATIENT_ESTIMATE)),
      seed: options.seed,
      invalidRate: options.invalidRate,
    });
    const { counts } = data;
    console.log(
      `generated ${fixed(counts.bytes / MB)} MB, ${counts.resources} resources ` +
        `(${counts.invalidLines} broken) in ${counts.files} files: ${fixed(seconds(t))} s`,
    );
    t = performance.now();
    await writeFhirDataToS3(data, s3, `s3://${BUCKET}/${INPUT_PREFIX}`);
    console.log(`uploaded to moto: ${fixed(counts.bytes / MB / seconds(t))} MB/s`);
    const keys = (await listObjects(s3, BUCKET, INPUT_PREFIX)).map((o) => o.key);
    const firstFile = data.files[0]!.content;
    const warmLine = firstFile.slice(0, firstFile.indexOf('\n'));
    // The generated text now lives in moto; drop it so the emulator runs on a lean heap.
    data = undefined;

    t = performance.now();
    const rawBytes = await rawRead(s3, keys);
    const rawMBps = rawBytes / MB / seconds(t);
    t = performance.now();
    const lines = await lineRead(s3, keys);
    const lineMBps = counts.bytes / MB / seconds(t);
    if (lines !== counts.resources || rawBytes !== counts.bytes) {
      throw new Error(
        `baseline read ${lines} lines / ${rawBytes} bytes, expected ${counts.resources} / ${counts.bytes}`,
      );
    }
    console.log(`baseline, raw S3 GetObject (body drained): ${fixed(rawMBps)} MB/s`);
    console.log(`baseline, readObjectLines (GetObject + line split): ${fixed(lineMBps)} MB/s`);

    // Loading the FHIR definitions and compiling the schemas is a one-time cost per process
    // (the first import pays it); measured apart so each level's figure is its steady throughput.
    t = performance.now();
    for (const level of options.levels) checkResourceLine(warmLine, level);
    console.log(`validator warm-up (definitions + first schema): ${fixed(seconds(t), 2)} s`);
    console.log(`emulator: ${dataDir ? 'persisting to a data dir' : 'in memory'}, a fresh one per level\n`);
    console.log(
      'level           status                   wall s   MB/s   resources/s  reported MB/s  vs raw S3  vs lines',
    );
    let run = 0;
    for (const level of options.levels) {
      // A fresh emulator per level: the in-memory store of an earlier run would stay on the heap.
      emulator = await startEmulator({
        s3Client: s3,
        dataDir: dataDir && join(dataDir, level),
        preset: 'fast',
        speed: {
          megabytesPerSecond: null,
          resourcesPerSecond: null,
          queueDelayMs: 0,
          progressRefreshMs: 1_000,
        },
      });
      const healthLake = new HealthLakeClient({
        endpoint: emulator.url,
        region: emulator.region,
        credentials: { ...LOCAL_S3_CREDENTIALS },
      });
      const { wallSeconds, job } = await importOnce(emulator, healthLake, level, run++);
      healthLake.destroy();
      await emulator.stop();
      emulator = undefined;
      const report = job.JobProgressReport;
      const megabytes = report?.TotalSizeOfScannedFilesInMB ?? 0;
      const mbps = megabytes / wallSeconds;
      const resourcesPerSecond = (report?.TotalNumberOfResourcesScanned ?? 0) / wallSeconds;
      console.log(
        `${level.padEnd(15)} ${String(job.JobStatus).padEnd(24)} ${fixed(wallSeconds, 2).padStart(6)} ` +
          `${fixed(mbps).padStart(6)} ${Math.round(resourcesPerSecond).toString().padStart(12)} ` +
          `${fixed(report?.Throughput ?? 0).padStart(14)} ${fixed(mbps / rawMBps, 2).padStart(10)} ` +
          `${fixed(mbps / lineMBps, 2).padStart(9)}`,
      );
      const expectedImported = counts.resources - counts.invalidByLevel[level];
      if (report?.TotalNumberOfResourcesImported !== expectedImported) {
        console.log(`  !! imported ${report?.TotalNumberOfResourcesImported}, expected ${expectedImported}`);
      }
    }
    console.log('\ngoal: >= 20 MB/s end to end on this 2-core machine');
  } finally {
    await emulator?.stop();
    s3.destroy();
    await s3Server.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
