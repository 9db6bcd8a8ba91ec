import { benchCommand } from './commands/bench.ts';
import { UsageError, type CommandSpec } from './flags.ts';

/** Every `kensa` sub-command; each lives in `commands/<name>.ts`. */
const COMMANDS: CommandSpec[] = [benchCommand];

function help(): string {
  const lines = ['kensa — visual inspection from the command line', '', 'Commands:'];
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(10)} ${c.summary}`);
  lines.push('', 'Run `kensa COMMAND --help` for its options and examples.');
  return lines.join('\n');
}

function commandHelp(c: CommandSpec): string {
  return [`Usage: ${c.usage}`, '', c.summary, '', 'Examples:', ...c.examples.map((e) => `  ${e}`)].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`Unknown command ${name}\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(commandHelp(command));
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${commandHelp(command)}`);
      return 2;
    }
    console.error(`Error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('kensa.js')) {
  process.exitCode = await main(process.argv.slice(2));
}
