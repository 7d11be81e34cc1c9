// Every workflow the worker registers (its `workflowsPath`). Add a line per workflow module.
export { fhirImportWorkflow } from './import';
