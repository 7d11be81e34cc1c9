// The CLI's subcommands. Each parses its own flags with node's parseArgs and returns an exit code.
import { MOTO_SERVER, resolveTool, TEMPORAL_CLI } from '../worker/local-tools';
import { codecServerCommand } from './codec-server';
import { emulatorCommand } from './emulator';
import { demoCommand } from './demo';
import { generateFhirCommand } from './generate-fhir';

export interface Command {
  readonly summary: string;
  run(args: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  emulator: emulatorCommand,
  'generate-fhir': generateFhirCommand,
  setup: {
    summary: 'find or install the local tools (Temporal CLI, moto S3 server) into .tools/',
    async run() {
      for (const spec of [TEMPORAL_CLI, MOTO_SERVER]) {
        const tool = resolveTool(spec);
        console.log(`${spec.executable}: ${tool.path} (${tool.source})`);
      }
      return 0;
    },
  },
  demo: demoCommand,
  'codec-server': codecServerCommand,
};
