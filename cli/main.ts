#!/usr/bin/env node
// The `temporal-healthlake` command, on commander: per-command `--help` with an example, `-h`,
// `--version`, and one exit-code rule for every command (cli/operate.ts `ExitCode`: 0 success,
// 1 failed import or operation, 2 bad usage), each error ONE line on stderr.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command as Program, CommanderError, Option } from 'commander';
import type { Command as Subcommand } from './commands';
import { CommandFailed, ExitCode, UsageError } from './errors';
import { EmulatorNotInstalledError, loadEmulator, loadOptionalEmulator } from '../testing/emulator-peer';
import type { ConnectionFlags, ImportFlags, ListFlags, RegisterFlags, StatusFlags } from './operate';

/** Where `temporal-healthlake worker` polls by default (worker/config.ts). */
const DEFAULT_TASK_QUEUE = 'healthlake-import';

// Commands load their modules when they run: `--help` and a usage error answer without loading
// the SDK's worker, the emulator or the AWS clients.
/* eslint-disable @typescript-eslint/no-require-imports */
const operate = (): typeof import('./operate') => require('./operate') as typeof import('./operate');
const events = (): typeof import('./events') => require('./events') as typeof import('./events');

/** healthlake-emulator's commands (a light module: flags and summaries), or undefined when it is not installed. */
const emulatorCli = (): typeof import('healthlake-emulator/cli') | undefined =>
  loadOptionalEmulator(() => require('healthlake-emulator/cli') as typeof import('healthlake-emulator/cli'));

const NAME = 'temporal-healthlake';

function packageVersion(): string {
  // cli/main.ts from a clone, dist/cli/main.js installed: package.json is one or two levels up.
  for (const up of ['..', join('..', '..')]) {
    try {
      return (JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8')) as { version: string })
        .version;
    } catch {
      // try the next level
    }
  }
  return 'unknown';
}

function connectionOptions(command: Program): Program {
  return command
    .addOption(
      new Option('--address <host:port>', 'Temporal frontend address')
        .env('TEMPORAL_ADDRESS')
        .default('127.0.0.1:7233'),
    )
    .addOption(
      new Option('--namespace <name>', 'Temporal namespace').env('TEMPORAL_NAMESPACE').default('default'),
    );
}

function example(command: Program, ...lines: string[]): Program {
  return command.addHelpText('after', `\nExample:\n${lines.map((l) => `  $ ${NAME} ${l}`).join('\n')}\n`);
}

/**
 * Builds the program; `setExit` receives each action's exit code. The legacy commands
 * (cli/commands.ts) parse their own flags: commander declares the same flags, so help lists them
 * and an unknown one fails here with one line, then the raw arguments go to the command.
 */
export function buildProgram(rawArgs: readonly string[], setExit: (code: number) => void): Program {
  // The same conventions as healthlake-emulator's own bin (emulator/cli/main.ts), set up twice on
  // purpose: this CLI must run without that optional peer installed, and it never imports ours.
  const program = new Program(NAME)
    .description('Run AWS HealthLake FHIR imports as durable Temporal workflows, and operate them.')
    .version(packageVersion(), '-V, --version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // One line, whatever commander composes (its suggestions come on a second line).
      outputError: (text, write) => write(`${text.trim().replace(/\s*\n\s*/g, ' ')} (see --help)\n`),
    });
  // Commander's default for an unknown command lists the commands; keep it one line too.
  program.configureHelp({ sortSubcommands: false });

  const connection = (options: ConnectionFlags): ConnectionFlags => ({
    address: options.address,
    namespace: options.namespace,
  });

  // import
  example(
    connectionOptions(
      program
        .command('import')
        .description('start a HealthLake FHIR import (fhirImportWorkflow); --wait follows it to the end')
        .requiredOption(
          '--caller-key <key>',
          'your key for this import: the same key always means the same import',
        )
        .requiredOption('--datastore-id <id>', 'HealthLake data store id')
        .requiredOption('--input-s3-uri <uri>', 's3://bucket/prefix/ holding the .ndjson files')
        .requiredOption(
          '--output-s3-uri <uri>',
          's3://bucket/prefix/ for SUCCESS/FAILURE files and manifest.json',
        )
        .requiredOption('--kms-key-id <id>', 'KMS key id, ARN or alias/... for the output')
        .requiredOption('--data-access-role-arn <arn>', 'IAM role HealthLake assumes to read and write S3')
        .option('--job-name <name>', 'readable part of the HealthLake job name')
        .addOption(
          new Option('--validation-level <level>', 'HealthLake validation level').choices([
            'strict',
            'structure-only',
            'minimal',
          ]),
        )
        .option(
          '--poll-policy <json>',
          'PollPolicy overrides as JSON or @file.json, e.g. \'{"maxDelayMs":30000}\'',
        )
        .option('--deadline <iso>', 'ISO-8601 instant after which the workflow fails (the job keeps running)')
        .option('--max-error-rate <0..1>', 'fail a COMPLETED_WITH_ERRORS job above this error rate')
        .option('--existing-job-id <id>', 'attach to a job started elsewhere instead of starting one')
        .option(
          '--manifest <json>',
          'landing manifest (or reference) as JSON or @file.json: percent, ETA, reconciliation',
        )
        .addOption(
          new Option('--reconciliation <mode>', 'with a manifest: report or fail on mismatches').choices([
            'report',
            'strict',
          ]),
        )
        .option('--api-task-queue <queue>', 'HealthLake API task queue (default: the one the worker names)')
        .addOption(
          new Option('--task-queue <queue>', 'task queue of the worker running fhirImportWorkflow')
            .env('TEMPORAL_TASK_QUEUE')
            .default(DEFAULT_TASK_QUEUE),
        )
        .addOption(
          new Option('--rerun <when>', 'may a closed import with this key run again').choices([
            'failed-only',
            'never',
          ]),
        )
        .option('--wait', 'follow the import with a live progress line until it ends')
        .option('--json', 'print the FhirImportResult (with --wait) or the workflow id as JSON on stdout'),
    ),
    'import --caller-key batch-2026-12-03 --datastore-id 6cf72eaa0fa151f8448ea6a2aa4174bc \\\n' +
      '      --input-s3-uri s3://my-bucket/landing/2026-12-03/ --output-s3-uri s3://my-bucket/healthlake-out/ \\\n' +
      '      --kms-key-id alias/healthlake --data-access-role-arn arn:aws:iam::123456789012:role/HealthLakeImport --wait',
  ).action(async (options: ImportFlags) => setExit(await operate().importCommand(options)));

  // status
  example(
    connectionOptions(
      program
        .command('status')
        .description("an import's live progress, decoded from its heartbeat (or its last known state)")
        .argument('<workflowId>', 'the import workflow id (fhir-import-<caller key>)')
        .option('--json', 'print the progress as JSON'),
    ),
    'status fhir-import-batch-2026-12-03',
  ).action(async (workflowId: string, options: StatusFlags) =>
    setExit(await operate().statusCommand(workflowId, options)),
  );

  // list
  example(
    connectionOptions(
      program
        .command('list')
        .description('list imports, filtered by data store and status (search attributes)')
        .option('--datastore-id <id>', 'only imports into this data store (HealthLakeDatastoreId)')
        .option(
          '--status <status>',
          'only imports whose job has this status, e.g. IN_PROGRESS (HealthLakeJobStatus)',
        )
        .addOption(
          new Option('--workflow-status <status>', 'only workflows in this state').choices([
            'Running',
            'Completed',
            'Failed',
            'Canceled',
            'Terminated',
            'TimedOut',
          ]),
        )
        .option('--limit <n>', 'at most this many', '50')
        .option('--json', 'print the list as JSON'),
    ),
    'list --status IN_PROGRESS --datastore-id 6cf72eaa0fa151f8448ea6a2aa4174bc',
  ).action(async (options: Omit<ListFlags, 'jobStatus'> & { status?: string }) =>
    setExit(await operate().listCommand({ ...options, jobStatus: options.status })),
  );

  // cancel
  example(
    connectionOptions(
      program
        .command('cancel')
        .description('cancel an import workflow (HealthLake cannot cancel the job itself)')
        .argument('<workflowId>', 'the import workflow id'),
    ),
    'cancel fhir-import-batch-2026-12-03',
  ).action(async (workflowId: string, options: ConnectionFlags) =>
    setExit(await operate().cancelCommand(workflowId, connection(options))),
  );

  // register-search-attributes
  example(
    connectionOptions(
      program
        .command('register-search-attributes')
        .description(
          'register HealthLakeDatastoreId, HealthLakeJobId, HealthLakeJobStatus (Keyword) in a namespace',
        )
        .option('--cloud', 'Temporal Cloud: print the tcld command and the UI steps instead'),
    ),
    'register-search-attributes --address 127.0.0.1:7233 --namespace default',
    'register-search-attributes --cloud --namespace my-ns.a1b2c',
  ).action(async (options: RegisterFlags) =>
    setExit(await operate().registerSearchAttributesCommand(options)),
  );

  // worker
  example(
    program
      .command('worker')
      .description('run the worker pair (import workflow + HealthLake API activities) until SIGINT/SIGTERM')
      .option('--address <host:port>', 'Temporal frontend address (TEMPORAL_ADDRESS)')
      .option('--namespace <name>', 'Temporal namespace (TEMPORAL_NAMESPACE)')
      .option(
        '--task-queue <queue>',
        `workflow task queue (TEMPORAL_TASK_QUEUE, default ${DEFAULT_TASK_QUEUE})`,
      )
      .option('--api-task-queue <queue>', 'HealthLake API task queue (HEALTHLAKE_API_TASK_QUEUE)')
      .option('--healthlake-endpoint <url>', 'a local emulator instead of AWS (HEALTHLAKE_ENDPOINT)')
      .option('--s3-endpoint <url>', 'an S3-compatible server instead of AWS S3 (S3_ENDPOINT)')
      .option('--region <region>', 'AWS region (AWS_REGION)')
      .addHelpText('after', '\nEvery other setting comes from the environment: see worker/README.md.'),
    'worker --address 127.0.0.1:7233 --healthlake-endpoint http://127.0.0.1:4566 --s3-endpoint http://127.0.0.1:4567',
  ).action(async (options: Record<string, string | undefined>) => {
    // Flags win over the environment; the worker reads only the environment (worker/config.ts).
    const env: NodeJS.ProcessEnv = { ...process.env };
    const put = (name: string, value: string | undefined) => {
      if (value !== undefined) env[name] = value;
    };
    put('TEMPORAL_ADDRESS', options.address);
    put('TEMPORAL_NAMESPACE', options.namespace);
    put('TEMPORAL_TASK_QUEUE', options.taskQueue);
    put('HEALTHLAKE_API_TASK_QUEUE', options.apiTaskQueue);
    put('HEALTHLAKE_ENDPOINT', options.healthlakeEndpoint);
    put('S3_ENDPOINT', options.s3Endpoint);
    put('AWS_REGION', options.region);
    // Loaded only here: the worker pulls in the SDK's native runtime.
    const { runWorkerMain } = require('../worker/main') as typeof import('../worker/main');
    setExit(await runWorkerMain(env));
  });

  // relay: HealthLake's job events (EventBridge -> SQS) to the waiting imports
  example(
    connectionOptions(
      program
        .command('relay')
        .description(
          "relay HealthLake's EventBridge job events from an SQS queue to the waiting imports (signals), until SIGINT/SIGTERM",
        )
        .requiredOption('--queue-url <url>', 'the SQS queue the EventBridge rule targets')
        .addOption(
          new Option('--region <region>', 'AWS region of the queue').env('AWS_REGION').default('us-east-1'),
        )
        .option(
          '--sqs-endpoint <url>',
          'an SQS-compatible server (default: AWS, or the queue URL host if local)',
        )
        .option('--wait-time-seconds <s>', 'long-poll wait of one ReceiveMessage (0..20)', '20')
        .option(
          '--unknown-job-grace-ms <ms>',
          'keep retrying an event whose import is not found yet for this long, then delete it',
          '120000',
        )
        .addHelpText(
          'after',
          '\nRun one or more next to your workers; `events-setup` prints the AWS set-up (rule, queue, IAM).',
        ),
    ),
    'relay --queue-url https://sqs.us-east-1.amazonaws.com/123456789012/healthlake-job-events --region us-east-1',
  ).action(async (options: import('./events').RelayFlags) => setExit(await events().relayCommand(options)));

  // events-setup: the CloudFormation for the rule, the queue and the relay's IAM policy
  example(
    program
      .command('events-setup')
      .description(
        'print the CloudFormation (EventBridge rule, SQS queue + DLQ + policy, relay IAM policy) for job events',
      )
      .requiredOption('--region <region>', 'AWS region of the data stores, e.g. us-east-1')
      .requiredOption('--account <id>', 'AWS account id (12 digits)')
      .option('--queue-name <name>', 'SQS queue name (default healthlake-job-events)')
      .addOption(
        new Option('--format <format>', 'template format').choices(['yaml', 'json']).default('yaml'),
      ),
    'events-setup --region us-east-1 --account 123456789012 > healthlake-events.yaml',
  ).action((options: import('./events').EventsSetupFlags) => setExit(events().eventsSetupCommand(options)));

  // The local tools, each with its own parser (flags declared here for help and checking).
  const legacy = (
    name: string,
    summary: string,
    load: () => Pick<Subcommand, 'run'>,
    declare: (command: Program) => Program,
    ...examples: string[]
  ): void => {
    example(declare(program.command(name).description(summary)), ...examples).action(async () => {
      setExit(await load().run(rawArgs.slice(1)));
    });
  };
  // demo and setup need healthlake-emulator: without it they exit 2 saying how to install it.
  const fromCommands =
    (name: string, needsEmulator = false) =>
    (): Subcommand => {
      const load = () => (require('./commands') as typeof import('./commands')).commands[name]!();
      return needsEmulator ? loadEmulator(`the ${name} command`, load) : load();
    };
  // The emulator's own commands (healthlake-emulator/cli), under this CLI's names.
  const emulatorCommands = emulatorCli()?.EMULATOR_CLI_COMMANDS;
  for (const [name, emulatorName] of [
    ['emulator', 'start'],
    ['generate-fhir', 'generate-fhir'],
  ] as const) {
    const command = emulatorCommands?.[emulatorName];
    if (command) {
      legacy(
        name,
        command.summary,
        () => command.load(),
        command.declare,
        ...command.examples.map((e) => `${name} ${e}`),
      );
    } else {
      legacy(
        name,
        `healthlake-emulator's ${emulatorName} command (not installed: npm install --save-dev healthlake-emulator)`,
        () => {
          throw new EmulatorNotInstalledError(`the ${name} command`);
        },
        (c) => c.allowUnknownOption().allowExcessArguments(),
        name,
      );
    }
  }
  legacy(
    'demo',
    'run the whole pipeline locally (landing -> import -> verify & export) with the Temporal UI',
    fromCommands('demo', true),
    (c) =>
      c
        .option('--keep', 'leave everything running until Ctrl-C')
        .option('--patients <n>', 'patients in the generated data set', '2000'),
    'demo --keep',
  );
  legacy(
    'setup',
    'find or install the local tools (Temporal CLI, moto S3 server) into .tools/',
    fromCommands('setup', true),
    (c) => c,
    'setup',
  );
  legacy(
    'codec-server',
    'serve the AES-GCM payload codec for the Temporal UI (keys in HEALTHLAKE_CODEC_KEYS)',
    fromCommands('codec-server'),
    (c) =>
      c
        .option('--port <n>', 'port', '8888')
        .option('--host <ip>', 'address to bind', '127.0.0.1')
        .option('--active-key-id <id>', 'key id that encrypts new payloads')
        .option('--ui-origin <url...>', 'origins allowed to call it (the Temporal UI)')
        .addHelpText(
          'after',
          '\nKeys come from HEALTHLAKE_CODEC_KEYS=<id>=<base64>[,...], never from flags.',
        ),
    'codec-server --port 8888 --active-key-id k2026 --ui-origin http://localhost:8233',
  );
  return program;
}

/** Runs the CLI on `argv` (without node and the script) and resolves with the exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  let code: number = ExitCode.Ok;
  const program = buildProgram(argv, (c) => {
    code = c;
  });
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return ExitCode.Usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help, -h, --version, `help <command>`: asked for, so success.
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(err.code)) {
        return err.code === 'commander.help' && err.exitCode !== 0 ? ExitCode.Usage : ExitCode.Ok;
      }
      return ExitCode.Usage;
    }
    if (err instanceof UsageError || err instanceof EmulatorNotInstalledError) {
      process.stderr.write(`error: ${err.message}\n`);
      return ExitCode.Usage;
    }
    if (err instanceof CommandFailed) {
      process.stderr.write(`error: ${err.message}\n`);
      return ExitCode.Failed;
    }
    process.stderr.write(`error: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}\n`);
    return ExitCode.Failed;
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
