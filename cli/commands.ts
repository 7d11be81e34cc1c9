// The CLI's local-tool subcommands. Each parses its own flags with node's parseArgs and returns an
// exit code; each is loaded only when it runs (demo and setup need the optional peer
// healthlake-emulator; `emulator` and `generate-fhir` are that package's own commands, mounted by
// cli/main.ts).
/* eslint-disable @typescript-eslint/no-require-imports */

export interface Command {
  readonly summary: string;
  run(args: string[]): Promise<number>;
}

type LocalTools = typeof import('../worker/local-tools');

const setupCommand = ({ MOTO_SERVER, resolveTool, TEMPORAL_CLI }: LocalTools): Command => ({
  summary: 'find or install the local tools (Temporal CLI, moto S3 server) into .tools/',
  async run() {
    for (const spec of [TEMPORAL_CLI, MOTO_SERVER]) {
      const tool = resolveTool(spec);
      console.log(`${spec.executable}: ${tool.path} (${tool.source})`);
    }
    return 0;
  },
});

export const commands: Record<string, () => Command> = {
  // Loads the tool specs (and through them healthlake-emulator's installer) before it runs.
  setup: () => setupCommand(require('../worker/local-tools') as LocalTools),
  demo: () => (require('./demo') as typeof import('./demo')).demoCommand,
  'codec-server': () => (require('./codec-server') as typeof import('./codec-server')).codecServerCommand,
};
