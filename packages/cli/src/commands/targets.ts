import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';
import { printJson, printTable } from '../output.ts';
import { CONNECTION_FLAGS, connect } from '../profile.ts';

/** Inspection targets (product lines): list them, create one, or delete an empty one. */
export const targetsCommand: CommandSpec = {
  name: 'targets',
  summary: 'List inspection targets (product lines, each with its own items and models), create one, or delete an empty one',
  usage: 'kensa targets [--json]\n       kensa targets create NAME [--mqtt-url URL] [--json]\n       kensa targets delete TARGET   (its id or name)',
  examples: [
    'kensa targets',
    'kensa targets create line-b',
    'kensa targets create line-c --mqtt-url mqtt://127.0.0.1:1883   # publish its finished predictions there',
    'kensa upload ./line-b/good --good --target line-b',
    'kensa targets delete line-c   # once its items and models are deleted; its broker connection closes',
  ],
  async run(argv) {
    const { positional, flags } = parseFlags(argv, { string: [...CONNECTION_FLAGS, 'mqtt-url'], boolean: ['json'] });
    const { sdk, remember } = await connect(flags);
    if (positional[0] === 'create') {
      if (positional.length !== 2) throw new UsageError('targets create needs exactly one NAME');
      const target = await sdk.createTarget(positional[1], { mqttUrl: flags['mqtt-url'] as string | undefined });
      await remember();
      if (flags.json) printJson(target);
      else console.log(`Target ${target.target_id} "${target.name}" created${target.mqtt ? `; predictions go to ${target.mqtt.topic} on ${target.mqtt.url}` : ''}`);
      return 0;
    }
    if (positional[0] === 'delete') {
      if (positional.length !== 2) throw new UsageError('targets delete needs exactly one TARGET (its id or name)');
      await sdk.deleteTarget(positional[1]);
      await remember();
      if (flags.json) printJson({ status: 'ok' });
      else console.log(`Target ${positional[1]} deleted`);
      return 0;
    }
    if (positional.length) throw new UsageError(`Unknown targets action ${positional[0]}`);
    if (flags['mqtt-url'] !== undefined) throw new UsageError('--mqtt-url goes with `targets create NAME`');
    const targets = await sdk.getTargets();
    await remember();
    if (flags.json) printJson(targets);
    else {
      printTable([
        ['', 'ID', 'NAME', 'ITEMS', 'MODELS', 'MQTT TOPIC'],
        ...targets.map((t) => [t.default ? '*' : '', t.target_id, t.name, t.item_count, t.model_count, t.mqtt?.topic ?? null]),
      ]);
    }
    return 0;
  },
};
