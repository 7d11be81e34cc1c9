// The activities' public surface: the HealthLake import activities factory, its narrow client
// interface and the AWS error classifier.
export * from './import';
export * from './healthlake-api';
export { classifyAwsError, type AwsErrorClass } from './aws-errors';
export * from './export';
export * from './datastore';
export * from './job-output';
export { runHybridWait, runStatusWait } from './job-wait';
export * from './lifecycle';
export * from './list-coalescer';
