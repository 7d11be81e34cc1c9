// `healthlake-emulator/cli`: the emulator's commands as any commander program can mount them: a
// summary, the flags (declared for help and checking), examples, and the code, loaded only when
// the command runs (so `--help` never loads the emulator or the AWS SDK). The `healthlake-emulator`
// bin (cli/main.ts) and `temporal-healthlake`'s CLI mount the same commands.
import { Option, type Command } from 'commander';
import type { EmulatorCommand } from './command';

export type { EmulatorCommand } from './command';

export interface EmulatorCliCommand {
  /** One line for the command list. */
  readonly summary: string;
  /** Declares the command's flags on `command` (the command re-parses its raw arguments itself). */
  declare(command: Command): Command;
  /** Example argument lines, after the command's name. */
  readonly examples: readonly string[];
  /** The command's code. */
  load(): EmulatorCommand;
}

/* eslint-disable @typescript-eslint/no-require-imports */
export const EMULATOR_CLI_COMMANDS = {
  start: {
    summary: 'run the local HealthLake emulator on 127.0.0.1 (starts moto when no --s3-endpoint)',
    declare: (c) =>
      c
        .option('--port <n>', 'port on 127.0.0.1 (0 = any free port)', '4566')
        .option('--data-dir <dir>', 'keep state here across restarts (default: in memory)')
        .option('--s3-endpoint <url>', 'an S3-compatible server (default: start moto)')
        .option(
          '--events-sqs-queue-url <url>',
          "send HealthLake's EventBridge job and data store events to this SQS queue (default: no events)",
        )
        .addOption(
          new Option(
            '--preset <name>',
            'pacing: fast for local use, aws for realistic timings (data store ~10 min)',
          )
            .choices(['fast', 'aws'])
            .default('fast'),
        ),
    examples: [
      '--port 4566 --data-dir .local/hl',
      '--preset aws   # realistic AWS pacing',
      '--s3-endpoint http://127.0.0.1:5000 --events-sqs-queue-url http://127.0.0.1:5000/123456789012/healthlake-events',
    ],
    load: () => (require('./start') as typeof import('./start')).startCommand,
  },
  'generate-fhir': {
    summary: 'write synthetic FHIR R4 NDJSON (linked, deterministic) to a folder or s3:// prefix',
    declare: (c) =>
      c
        .requiredOption('--patients <n>', 'number of patients (at most 20,000 a run)')
        .requiredOption('--out <dir-or-s3-uri>', 'a folder or an s3:// prefix')
        .option('--invalid-rate <0..1>', 'fraction of deliberately broken lines')
        .option('--seed <n>', 'random seed (same seed, same data)')
        .option('--s3-endpoint <url>', 'an S3-compatible server for an s3:// --out')
        .option('--max-file-bytes <n>', 'split files above this size')
        .option('--resources-per-file <n>', 'split files above this many resources')
        .option('--progress-every <patients>', 'a progress line every this many patients'),
    examples: ['--patients 1000 --out ./data --invalid-rate 0.001 --seed 7'],
    load: () => (require('./generate-fhir') as typeof import('./generate-fhir')).generateFhirCommand,
  },
} as const satisfies Record<string, EmulatorCliCommand>;
