import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { APIError } from '@kensa/sdk';
import { benchCommand } from './commands/bench.ts';
import { clientCommand } from './commands/client.ts';
import { demoCommand } from './commands/demo.ts';
import { inspectCommand } from './commands/inspect.ts';
import { itemCommand } from './commands/item.ts';
import { licenseCommand } from './commands/license.ts';
import { loginCommand } from './commands/login.ts';
import { modelsCommand } from './commands/models.ts';
import { predictCommand } from './commands/predict.ts';
import { serveCommand } from './commands/serve.ts';
import { workerCommand } from './commands/worker.ts';
import { migrateCommand } from './commands/migrate.ts';
import { targetsCommand } from './commands/targets.ts';
import { trainCommand } from './commands/train.ts';
import { uploadCommand } from './commands/upload.ts';
import { UsageError, type CommandSpec } from './flags.ts';

/** Every `kensa` sub-command; each lives in `commands/<name>.ts`. */
const COMMANDS: CommandSpec[] = [
  serveCommand, workerCommand, migrateCommand, clientCommand, licenseCommand, loginCommand, targetsCommand, uploadCommand, trainCommand, modelsCommand,
  predictCommand, inspectCommand, itemCommand, benchCommand, demoCommand,
];

const EXIT_CODES = [
  'Exit codes: 0 success; 1 the server refused or the work failed (message on stderr, or {"error": …} with',
  '--json); 2 wrong usage; 3 `predict`/`inspect --fail-on-ng` found NG.',
];

function help(): string {
  const lines = ['kensa — visual inspection from the command line', '', 'Commands:'];
  for (const c of COMMANDS) lines.push(`  ${c.name.padEnd(10)} ${c.summary}`);
  lines.push(
    '',
    'A first run:',
    '  kensa serve --data-dir ./data --bootstrap-client demo:demo-secret &',
    '  kensa login --url http://127.0.0.1:8080/api --client-id demo --client-secret demo-secret',
    '  kensa upload ./cookies/train/good --good',
    '  kensa train --algorithm PM --wait',
    '  kensa predict ./cookies/test/defect --wait',
    '',
    'Every command takes --json (machine-readable stdout) and --help. Commands that talk to a server take',
    '--url, --client-id, --client-secret, --language en|ja, else KENSA_API_URL, KENSA_CLIENT_ID,',
    'KENSA_CLIENT_SECRET, KENSA_LANGUAGE, else the profile of `kensa login` (KENSA_PROFILE or',
    '~/.config/kensa/profile.json).',
    ...EXIT_CODES,
    '',
    'Run `kensa COMMAND --help` for its options and examples.',
  );
  return lines.join('\n');
}

function commandHelp(c: CommandSpec): string {
  return [`Usage: ${c.usage}`, '', c.summary, '', 'Examples:', ...c.examples.map((e) => `  ${e}`), '', ...EXIT_CODES].join('\n');
}

function describeError(error: unknown): { message: string; json: Record<string, unknown> } {
  if (error instanceof APIError) {
    const detail = Array.isArray(error.detail) ? error.detail.join('; ') : error.detail;
    return {
      // Without a title (the original's answer to deleting an unknown model) the detail already heads the message.
      message: `${error.message}${detail && error.title ? `: ${detail}` : ''}`,
      json: { status: error.status, title: error.title, detail: error.detail, pointer: error.pointer, message: error.message },
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message, json: { message } };
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
  const json = rest.includes('--json');
  try {
    return await command.run(rest);
  } catch (error) {
    const usage = error instanceof UsageError;
    const { message, json: body } = describeError(error);
    if (json) process.stdout.write(`${JSON.stringify({ error: body })}\n`);
    if (usage) console.error(`${message}\n\n${commandHelp(command)}`);
    else console.error(`Error: ${message}`);
    return usage ? 2 : 1;
  }
}

// Run directly (`node --import tsx packages/cli/src/main.ts …`); bin/kensa.js calls main() itself.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
