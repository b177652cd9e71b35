import type { ApiModel, ModelDeploymentBody } from './api-types';
import { checkKnownOptions, intOption, UsageError } from './args';
import type { CommandContext } from './commands';
import { requirementsOf } from './submit-options';
import { formatTable, printable } from './table';
import { printJson } from './output';

const USAGE = 'models [list] | deploy NAME --type T [--warm-min N] [--warm-max N] [--config JSON] [--gpus N] [--gpu-memory-mib N] [--labels a,b] | delete NAME';


/** One line per model: its warm range and where it is loaded (`ki:state`). */
export function formatModels(items: readonly ApiModel[]): string {
  return formatTable(
    [{ header: 'MODEL' }, { header: 'TYPE' }, { header: 'WARM', right: true }, { header: 'READY', right: true }, { header: 'REPLICAS', maxWidth: 80 }],
    items.map((m) => [m.name, m.type, `${m.warm.min}..${m.warm.max}`, String(m.replicas.filter((r) => r.state === 'ready').length),
      m.replicas.map((r) => `${r.ki}:${r.state}`).join(' ') || '-']),
  );
}

function configOf(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new UsageError('--config must be a JSON object (e.g. \'{"weights":"/models/a"}\')');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('--config must be a JSON object');
  return value as Record<string, unknown>;
}

/** `models [list]`, `models deploy NAME --type T ...` and `models delete NAME` (deploy and delete: admin, operator). */
export async function models(c: CommandContext): Promise<number> {
  const [action = 'list', name, extra] = c.args.positionals;
  if (action === 'list' && name === undefined) {
    checkKnownOptions(c.args, []);
    const { items } = await c.api.listModels();
    if (c.json) printJson(c.out, { items });
    else c.out.write(items.length ? formatModels(items) : 'no models\n');
    return 0;
  }
  if (name === undefined || extra !== undefined) throw new UsageError(USAGE);
  if (action === 'deploy') {
    checkKnownOptions(c.args, ['type', 'warm-min', 'warm-max', 'config', 'gpus', 'gpu-memory-mib', 'labels']);
    const type = c.args.options.get('type');
    if (!type) throw new UsageError('models deploy needs --type (the model type the plug-in loads)');
    const min = intOption(c.args, 'warm-min', 0, 1000);
    const max = intOption(c.args, 'warm-max', 0, 1000);
    const requirements = requirementsOf(c.args);
    const config = configOf(c.args.options.get('config'));
    const body: ModelDeploymentBody = {
      name, type,
      ...(min !== undefined || max !== undefined ? { warm: { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) } } : {}),
      ...(requirements ? { requirements } : {}),
      ...(config ? { config } : {}),
    };
    const model = await c.api.deployModel(body);
    if (c.json) printJson(c.out, model);
    else c.out.write(formatModels([model]));
    return 0;
  }
  if (action === 'delete') {
    checkKnownOptions(c.args, []);
    await c.api.deleteModel(name);
    if (c.json) printJson(c.out, { name, deleted: true });
    else c.out.write(`deleted model ${printable(name)}\n`);
    return 0;
  }
  throw new UsageError(`models: unknown action "${printable(action)}" (list, deploy or delete)`);
}
