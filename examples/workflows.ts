// The workflows a worker for the examples and the demo registers: the library's, plus the example
// downstream workflow. Pass this file as `workflowsPath`.
export * from '../workflows';
export { verifyAndExportWorkflow } from './verify-and-export';
export { ownLandingWorkflow } from './own-landing';
