// Every workflow the worker registers (its `workflowsPath`). Add a line per workflow module.
export { fhirImportWorkflow } from './import';
export { healthLakeGateWorkflow } from './gate';
export { fhirLandingWorkflow } from './landing';
export { fhirImportHandoverWorkflow } from './pipeline';
export { fhirExportWorkflow } from './export';
export { ensureFhirDatastoreWorkflow, deleteFhirDatastoreWorkflow } from './datastore';
export { fhirImportWithFailureReportWorkflow } from './import-report';
