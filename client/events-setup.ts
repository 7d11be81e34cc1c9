// The AWS set-up for job events, generated: an EventBridge rule matching HealthLake's import job
// events, the SQS queue it targets (with a dead-letter queue and the queue policy that lets only
// that rule send), and the IAM policy the relay needs, as one CloudFormation template.
import { HEALTHLAKE_EVENT_SOURCE, IMPORT_JOB_EVENT_STATUSES } from '../workflows/job-events';

/** The EventBridge rule's pattern: HealthLake's import job events, every status. */
export const HEALTHLAKE_IMPORT_EVENT_PATTERN = {
  source: [HEALTHLAKE_EVENT_SOURCE],
  'detail-type': Object.keys(IMPORT_JOB_EVENT_STATUSES),
} as const;

export interface HealthLakeEventsSetupOptions {
  /** The data stores' region, e.g. `us-east-1` (the rule, the queue and the relay live there). */
  readonly region: string;
  /** The AWS account id (12 digits). */
  readonly accountId: string;
  /** The SQS queue's name; the dead-letter queue is `<name>-dlq`. @default 'healthlake-job-events' */
  readonly queueName?: string;
}

/** A bad `region`, `accountId` or `queueName`, named with its value and rule. */
export class InvalidEventsSetupOption extends Error {
  override readonly name = 'InvalidEventsSetupOption';
  constructor(
    readonly field: string,
    readonly value: string,
    readonly rule: string,
  ) {
    super(`${field} ${JSON.stringify(value)} ${rule}`);
  }
}

export const DEFAULT_EVENTS_QUEUE_NAME = 'healthlake-job-events';
/**
 * Receives before SQS moves a message to the dead-letter queue. The relay re-receives an event
 * whose import is not found yet every 2 s for 2 min (about 60 receives), so this stays above it.
 */
export const EVENTS_MAX_RECEIVE_COUNT = 100;

function check(options: HealthLakeEventsSetupOptions): Required<HealthLakeEventsSetupOptions> {
  const queueName = options.queueName ?? DEFAULT_EVENTS_QUEUE_NAME;
  if (!/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(options.region))
    throw new InvalidEventsSetupOption('region', options.region, 'must be an AWS region such as us-east-1');
  if (!/^\d{12}$/.test(options.accountId))
    throw new InvalidEventsSetupOption('account', options.accountId, 'must be a 12-digit AWS account id');
  if (!/^[A-Za-z0-9_-]{1,76}$/.test(queueName))
    throw new InvalidEventsSetupOption(
      'queue name',
      queueName,
      'must be 1-76 letters, digits, - or _ (SQS allows 80; "-dlq" is appended for the dead-letter queue)',
    );
  return { region: options.region, accountId: options.accountId, queueName };
}

/** The SQS queue URL the template creates (what `temporal-healthlake relay --queue-url` takes). */
export function healthLakeEventsQueueUrl(options: HealthLakeEventsSetupOptions): string {
  const { region, accountId, queueName } = check(options);
  return `https://sqs.${region}.amazonaws.com/${accountId}/${queueName}`;
}

/**
 * The CloudFormation template (as an object): rule → queue (+ DLQ, queue policies), and a managed
 * IAM policy for the relay (ReceiveMessage, DeleteMessage, ChangeMessageVisibility,
 * GetQueueAttributes on the queue only).
 */
export function healthLakeEventsTemplate(options: HealthLakeEventsSetupOptions): Record<string, unknown> {
  const { region, accountId, queueName } = check(options);
  const queueArn = { 'Fn::GetAtt': ['HealthLakeEventsQueue', 'Arn'] };
  const dlqArn = { 'Fn::GetAtt': ['HealthLakeEventsDeadLetterQueue', 'Arn'] };
  const ruleArn = { 'Fn::GetAtt': ['HealthLakeEventsRule', 'Arn'] };
  const allowRule = (sid: string, resource: unknown) => ({
    Sid: sid,
    Effect: 'Allow',
    Principal: { Service: 'events.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: resource,
    Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
  });
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `HealthLake import job events (EventBridge) to SQS for the temporal-healthlake relay, ${region} / ${accountId}`,
    Resources: {
      HealthLakeEventsDeadLetterQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: `${queueName}-dlq`,
          MessageRetentionPeriod: 1_209_600,
          SqsManagedSseEnabled: true,
        },
      },
      HealthLakeEventsQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: queueName,
          // Events older than 4 days are worthless: polling has found those ends long ago.
          MessageRetentionPeriod: 345_600,
          VisibilityTimeout: 30,
          ReceiveMessageWaitTimeSeconds: 20,
          SqsManagedSseEnabled: true,
          RedrivePolicy: { deadLetterTargetArn: dlqArn, maxReceiveCount: EVENTS_MAX_RECEIVE_COUNT },
        },
      },
      HealthLakeEventsRule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Name: `${queueName}-rule`,
          Description: 'HealthLake import job status changes, for temporal-healthlake',
          EventBusName: 'default',
          State: 'ENABLED',
          EventPattern: HEALTHLAKE_IMPORT_EVENT_PATTERN,
          Targets: [
            {
              Id: 'healthlake-events-sqs',
              Arn: queueArn,
              // Events EventBridge cannot deliver (a policy mistake) land here instead of vanishing.
              DeadLetterConfig: { Arn: dlqArn },
              RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
            },
          ],
        },
      },
      HealthLakeEventsQueuePolicy: {
        Type: 'AWS::SQS::QueuePolicy',
        Properties: {
          Queues: [{ Ref: 'HealthLakeEventsQueue' }, { Ref: 'HealthLakeEventsDeadLetterQueue' }],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              allowRule('AllowHealthLakeEventsRule', queueArn),
              allowRule('AllowHealthLakeEventsRuleDeadLetters', dlqArn),
            ],
          },
        },
      },
      HealthLakeEventRelayPolicy: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          ManagedPolicyName: `${queueName}-relay`,
          Description: 'What temporal-healthlake relay needs: read and delete events from the queue',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: [
                  'sqs:ReceiveMessage',
                  'sqs:DeleteMessage',
                  'sqs:ChangeMessageVisibility',
                  'sqs:GetQueueAttributes',
                ],
                Resource: queueArn,
              },
            ],
          },
        },
      },
    },
    Outputs: {
      QueueUrl: {
        Description: 'temporal-healthlake relay --queue-url',
        Value: { Ref: 'HealthLakeEventsQueue' },
      },
      DeadLetterQueueUrl: { Value: { Ref: 'HealthLakeEventsDeadLetterQueue' } },
      RelayPolicyArn: {
        Description: "attach to the relay's role",
        Value: { Ref: 'HealthLakeEventRelayPolicy' },
      },
    },
  };
}

/** A YAML scalar: plain when safe, else JSON-quoted (JSON strings are valid YAML). */
function scalar(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = String(value);
  return /^[A-Za-z0-9_./:-][A-Za-z0-9 _./:-]*$/.test(text) &&
    !/^(true|false|null|yes|no|on|off|~|\d.*)$/i.test(text) &&
    !text.endsWith(' ') &&
    !text.includes(': ')
    ? text
    : JSON.stringify(text);
}

/** Block-style YAML for plain data (objects, arrays, strings, numbers, booleans). */
export function toYaml(value: unknown, indent = ''): string {
  if (Array.isArray(value)) {
    return value
      .map((item) => {
        if (item !== null && typeof item === 'object') {
          const inner = toYaml(item, indent + '  ');
          return `${indent}- ${inner.slice(indent.length + 2)}`;
        }
        return `${indent}- ${scalar(item)}`;
      })
      .join('\n');
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([key, item]) => {
        const k = scalar(key);
        if (item !== null && typeof item === 'object')
          return (Array.isArray(item) && item.length === 0) ||
            (!Array.isArray(item) && Object.keys(item).length === 0)
            ? `${indent}${k}: ${Array.isArray(item) ? '[]' : '{}'}`
            : `${indent}${k}:\n${toYaml(item, indent + '  ')}`;
        return `${indent}${k}: ${scalar(item)}`;
      })
      .join('\n');
  }
  return `${indent}${scalar(value)}`;
}

/**
 * The template as text to paste or save: YAML (with a header saying how to deploy it) or JSON.
 *
 * @example process.stdout.write(healthLakeEventsSetup({ region: 'us-east-1', accountId: '123456789012' }));
 */
export function healthLakeEventsSetup(
  options: HealthLakeEventsSetupOptions & { readonly format?: 'yaml' | 'json' },
): string {
  const template = healthLakeEventsTemplate(options);
  if (options.format === 'json') return JSON.stringify(template, null, 2) + '\n';
  const { region, queueName } = check(options);
  return [
    `# HealthLake job events -> SQS -> temporal-healthlake relay (${region}).`,
    `# aws cloudformation deploy --region ${region} --stack-name ${queueName} \\`,
    `#   --template-file healthlake-events.yaml --capabilities CAPABILITY_NAMED_IAM`,
    `# then: temporal-healthlake relay --queue-url ${healthLakeEventsQueueUrl(options)} --region ${region}`,
    toYaml(template),
    '',
  ].join('\n');
}
