import { writeFile } from 'node:fs/promises';
import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';
import { printJson, printTable } from '../output.ts';
import { CONNECTION_FLAGS, connect } from '../profile.ts';

const percent = (value: number | null | undefined) => (value === null || value === undefined ? null : `${(value * (value <= 1 ? 100 : 1)).toFixed(1)}%`);

export const modelsCommand: CommandSpec = {
  name: 'models',
  summary: 'List models (the active one is marked *), delete, export or import some',
  usage: 'kensa models [--target ID|NAME] [--json]\n       kensa models delete ID… [--json]\n       kensa models export ID --out FILE\n'
    + '       kensa models import FILE [--target ID|NAME] [--trust] [--json]',
  examples: [
    'kensa models', 'kensa models --json', 'kensa models --target line-b   # one target\'s models', 'kensa models delete 3 4',
    'kensa models export 3 --out line-a.kensa-model   # signed with this installation\'s key',
    'kensa models import line-a.kensa-model --trust   # a file from another installation: only if you trust it',
  ],
  async run(argv) {
    const { positional, flags } = parseFlags(argv, { string: [...CONNECTION_FLAGS, 'target', 'out'], boolean: ['json', 'trust'] });
    const { sdk, remember } = await connect(flags);
    if (positional[0] === 'export') {
      if (positional.length !== 2 || typeof flags.out !== 'string') throw new UsageError('models export needs one model id and --out FILE');
      const bytes = await sdk.exportModel(positional[1]);
      await remember();
      await writeFile(flags.out, bytes);
      if (flags.json) printJson({ model_id: positional[1], file: flags.out, bytes: bytes.byteLength });
      else console.log(`Model ${positional[1]} exported to ${flags.out} (${bytes.byteLength} bytes, signed by this installation)`);
      return 0;
    }
    if (positional[0] === 'import') {
      if (positional.length !== 2) throw new UsageError('models import needs one model file');
      const model = await sdk.importModel(positional[1], { target: flags.target as string | undefined, trust: flags.trust === true });
      await remember();
      if (flags.json) printJson(model);
      else console.log(`Imported ${positional[1]} as model ${model.model_id} (${model.algorithm_id}), now the active one`);
      return 0;
    }
    if (positional[0] === 'delete') {
      const ids = positional.slice(1);
      if (ids.length === 0) throw new UsageError('models delete needs one or more model ids');
      const answer = await sdk.deleteModels(ids.map((id) => (/^\d+$/.test(id) ? Number(id) : id)));
      await remember();
      if (flags.json) printJson(answer);
      else console.log(`Deleted model(s) ${ids.join(', ')}`);
      return 0;
    }
    if (positional.length) throw new UsageError(`Unknown models action ${positional[0]}`);
    const models = await sdk.getModels({ target: flags.target as string | undefined });
    await remember();
    if (flags.json) {
      printJson(models);
      return 0;
    }
    if (models.length === 0) {
      console.log('No models yet: `kensa train --algorithm ID --wait` makes one.');
      return 0;
    }
    printTable([
      ['', 'ID', 'NAME', 'ALGORITHM', 'STATUS', 'OK/NG IMAGES', 'PRECISION', 'RECALL', 'CREATED', 'TARGET'],
      ...models.map((m) => [
        m.active ? '*' : '',
        m.model_id,
        m.name,
        m.algorithm_id,
        m.status === 'creating' && m.progress != null ? `creating ${Math.round(m.progress * 100)}%` : m.status,
        `${m.ok_img_count ?? '-'}/${m.ng_img_count ?? '-'}`,
        percent(m.stats?.precision?.computed ?? m.stats?.precision?.projected),
        percent(m.stats?.recall?.computed ?? m.stats?.recall?.projected),
        m.created_at,
        m.target_id ?? null,
      ]),
    ]);
    return 0;
  },
};
