// The AWS set-up for job events (`events-setup` and `healthLakeEventsSetup`): the printed YAML and
// JSON parse (PyYAML from the moto install) to the same template, the rule's pattern is exactly
// HealthLake's import detail-types, and cfn-lint (shipped with moto[server]) finds no error or
// warning. Also the relay's reading of SQS bodies, and the CLI's exit codes for both commands.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import {
  healthLakeEventsSetup,
  healthLakeEventsTemplate,
  HEALTHLAKE_IMPORT_EVENT_PATTERN,
  parseHealthLakeJobEvent,
} from '../client';
import { MOTO_SERVER, resolveTool } from '../worker/local-tools';
import { runCli, type CliRun } from './helpers/cli-process';

const OPTIONS = { region: 'eu-west-2', accountId: '210987654321', queueName: 'hl-events' };

/** Runs Python with moto's folder on the path (PyYAML and cfn-lint come with moto[server]). */
function python(script: string, stdin: string): string {
  const { pythonPath } = resolveTool(MOTO_SERVER);
  return execFileSync('python3', ['-c', script], {
    input: stdin,
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: pythonPath ?? '' },
    maxBuffer: 16 * 1024 * 1024,
  });
}

const cli = (args: string[]): Promise<CliRun> =>
  runCli(args, { env: { NODE_NO_WARNINGS: '1', TEMPORAL_ADDRESS: '127.0.0.1:1' } });

describe('events-setup: the CloudFormation for HealthLake job events', () => {
  it('the YAML and the JSON parse to the same template, with the exact event pattern', () => {
    const template = healthLakeEventsTemplate(OPTIONS);
    const yaml = healthLakeEventsSetup(OPTIONS);
    const parsed = JSON.parse(
      python('import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))', yaml),
    ) as Record<string, unknown>;
    assert.deepEqual(parsed, JSON.parse(JSON.stringify(template)));
    assert.deepEqual(JSON.parse(healthLakeEventsSetup({ ...OPTIONS, format: 'json' })), parsed);
    const resources = parsed.Resources as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >;
    assert.deepEqual(resources.HealthLakeEventsRule!.Properties.EventPattern, {
      source: ['aws.healthlake'],
      'detail-type': [
        'Import Job Submitted',
        'Import Job Queued',
        'Import Job In Progress',
        'Import Job Completed',
        'Import Job Completed With Errors',
        'Import Job Failed',
      ],
    });
    assert.deepEqual(
      HEALTHLAKE_IMPORT_EVENT_PATTERN,
      resources.HealthLakeEventsRule!.Properties.EventPattern,
    );
    assert.deepEqual(
      Object.entries(resources).map(([name, r]) => [name, r.Type]),
      [
        ['HealthLakeEventsDeadLetterQueue', 'AWS::SQS::Queue'],
        ['HealthLakeEventsQueue', 'AWS::SQS::Queue'],
        ['HealthLakeEventsRule', 'AWS::Events::Rule'],
        ['HealthLakeEventsQueuePolicy', 'AWS::SQS::QueuePolicy'],
        ['HealthLakeEventRelayPolicy', 'AWS::IAM::ManagedPolicy'],
      ],
    );
    // Only EventBridge, and only from this rule, may send to the queue.
    const statement = (
      resources.HealthLakeEventsQueuePolicy!.Properties.PolicyDocument as {
        Statement: Record<string, unknown>[];
      }
    ).Statement[0]!;
    assert.deepEqual(statement.Principal, { Service: 'events.amazonaws.com' });
    assert.equal(statement.Action, 'sqs:SendMessage');
    assert.deepEqual(statement.Condition, {
      ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['HealthLakeEventsRule', 'Arn'] } },
    });
    const relay = (
      resources.HealthLakeEventRelayPolicy!.Properties.PolicyDocument as {
        Statement: Record<string, unknown>[];
      }
    ).Statement[0]!;
    assert.deepEqual(relay.Action, [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueAttributes',
    ]);
    assert.match(yaml, /^# HealthLake job events -> SQS -> temporal-healthlake relay \(eu-west-2\)\.\n/);
    assert.match(
      yaml,
      /relay --queue-url https:\/\/sqs\.eu-west-2\.amazonaws\.com\/210987654321\/hl-events /,
    );
  });

  it("the root README's copy-paste template is exactly what the command prints", () => {
    const readme = readFileSync(resolve(__dirname, '..', 'README.md'), 'utf8');
    const printed = healthLakeEventsSetup({ region: 'us-east-1', accountId: '123456789012' });
    assert.ok(readme.includes('```yaml\n' + printed + '```'), 'README.md holds an outdated template');
  });

  it('cfn-lint finds no error and no warning in the template', () => {
    const findings = python(
      [
        'import sys',
        'from cfnlint.api import lint_all',
        'for m in lint_all(sys.stdin.read()):',
        '    if m.rule.id[0] in "EW": print(m.rule.id, m.message)',
      ].join('\n'),
      healthLakeEventsSetup(OPTIONS),
    );
    assert.equal(findings, '');
  });

  it('the CLI prints it (exit 0) and names a bad flag (exit 2, one line)', async () => {
    const [ok, json, badAccount, badRegion, badQueue] = await Promise.all([
      cli([
        'events-setup',
        '--region',
        'eu-west-2',
        '--account',
        '210987654321',
        '--queue-name',
        'hl-events',
      ]),
      cli(['events-setup', '--region', 'eu-west-2', '--account', '210987654321', '--format', 'json']),
      cli(['events-setup', '--region', 'eu-west-2', '--account', '2109']),
      cli(['events-setup', '--region', 'Europe', '--account', '210987654321']),
      cli(['events-setup', '--region', 'eu-west-2', '--account', '210987654321', '--queue-name', 'a b']),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, healthLakeEventsSetup(OPTIONS));
    assert.equal(json.code, 0);
    assert.deepEqual(
      JSON.parse(json.stdout),
      JSON.parse(
        JSON.stringify(healthLakeEventsTemplate({ region: 'eu-west-2', accountId: '210987654321' })),
      ),
    );
    assert.deepEqual(
      [badAccount.code, badAccount.stdout, badAccount.stderr],
      [2, '', 'error: --account "2109" must be a 12-digit AWS account id\n'],
    );
    assert.deepEqual(
      [badRegion.code, badRegion.stderr],
      [2, 'error: --region "Europe" must be an AWS region such as us-east-1\n'],
    );
    assert.equal(badQueue.code, 2);
    assert.match(badQueue.stderr, /^error: --queue-name "a b" must be 1-76 letters, digits, - or _/);
  });
});

describe('relay: reading SQS bodies and its exit codes', () => {
  const envelope = (detailType: string, detail: Record<string, unknown>, source = 'aws.healthlake') =>
    JSON.stringify({
      version: '0',
      id: 'e-1',
      'detail-type': detailType,
      source,
      account: '123456789012',
      time: '2026-12-03T10:00:00Z',
      region: 'us-east-1',
      resources: [],
      detail,
    });
  const ids = { datastoreId: 'a'.repeat(32), jobId: 'b'.repeat(32) };

  it('turns each import detail-type into its status; other events are ignored, broken ones malformed', () => {
    const table: Array<[string, string]> = [
      ['Import Job Submitted', 'SUBMITTED'],
      ['Import Job Queued', 'QUEUED'],
      ['Import Job In Progress', 'IN_PROGRESS'],
      ['Import Job Completed', 'COMPLETED'],
      ['Import Job Completed With Errors', 'COMPLETED_WITH_ERRORS'],
      ['Import Job Failed', 'FAILED'],
    ];
    for (const [detailType, status] of table) {
      assert.deepEqual(parseHealthLakeJobEvent(envelope(detailType, ids)), {
        kind: 'event',
        event: { ...ids, status, eventId: 'e-1', time: '2026-12-03T10:00:00Z' },
      });
    }
    assert.deepEqual(parseHealthLakeJobEvent(envelope('Export Job Completed', ids)), {
      kind: 'ignored',
      detailType: 'Export Job Completed',
    });
    assert.deepEqual(parseHealthLakeJobEvent(envelope('Import Job Completed', ids, 'my.app')), {
      kind: 'ignored',
      detailType: 'Import Job Completed',
    });
    assert.deepEqual(parseHealthLakeJobEvent('{'), { kind: 'malformed', reason: 'body is not JSON' });
    assert.deepEqual(parseHealthLakeJobEvent('{"a":1}'), {
      kind: 'malformed',
      reason: 'no "source" or "detail-type": not an EventBridge envelope',
    });
    // Never put into a visibility query: a quote would change the query.
    assert.deepEqual(
      parseHealthLakeJobEvent(envelope('Import Job Completed', { ...ids, jobId: "x' OR 'a'='a" })),
      {
        kind: 'malformed',
        reason: `detail.jobId "x' OR 'a'='a" is not a job id`,
      },
    );
  });

  it('a bad flag exits 2; an unreachable queue exits 1, each with one line', async () => {
    const [badUrl, badWait, unreachable] = await Promise.all([
      cli(['relay', '--queue-url', 'not a url']),
      cli(['relay', '--queue-url', 'http://127.0.0.1:1/123456789012/q', '--wait-time-seconds', '30']),
      cli(['relay', '--queue-url', 'http://127.0.0.1:1/123456789012/q']),
    ]);
    assert.deepEqual(
      [badUrl.code, badUrl.stderr],
      [2, 'error: --queue-url "not a url" must be an http(s) URL\n'],
    );
    assert.deepEqual(
      [badWait.code, badWait.stderr],
      [2, 'error: --wait-time-seconds "30" must be an integer in 0..20\n'],
    );
    assert.equal(unreachable.code, 1);
    assert.match(
      unreachable.stderr,
      /^error: queue http:\/\/127\.0\.0\.1:1\/123456789012\/q not reachable: /,
    );
    assert.equal(unreachable.stderr.split('\n').filter(Boolean).length, 1, unreachable.stderr);
  });
});
