#!/usr/bin/env node
// The `temporal-healthlake` command: one entry point whose subcommands live in cli/commands.
import { commands } from './commands';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    console.error(
      `usage: temporal-healthlake <command> [options]\n\ncommands:\n` +
        Object.entries(commands)
          .map(([n, c]) => `  ${n.padEnd(14)} ${c.summary}`)
          .join('\n'),
    );
    return name === undefined || name === '--help' || name === 'help' ? 0 : 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
