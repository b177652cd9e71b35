import { configSchema } from '../../../config';

/** The environment variables the configuration marks sensitive (AMQP_URL, AES_KEYS, JWT_SECRET_KEY, ...). */
function sensitiveEnvNames(node: unknown = configSchema, out = new Set<string>()): Set<string> {
  if (node === null || typeof node !== 'object') return out;
  const entry = node as Record<string, unknown>;
  if (entry['sensitive'] === true && typeof entry['env'] === 'string') out.add(entry['env']);
  for (const value of Object.values(entry)) if (value !== null && typeof value === 'object') sensitiveEnvNames(value, out);
  return out;
}

const SENSITIVE = sensitiveEnvNames();

/**
 * A plug-in worker's environment: the Ki's, less its secrets (a plug-in has no use for the
 * broker's credentials or the message keys, and a worker's environment is readable in /proc by
 * its user), with `CUDA_VISIBLE_DEVICES` set to the reservation. `NVIDIA_VISIBLE_DEVICES` is
 * left as it is: the NVIDIA container runtime reads it once, when it creates the container, so
 * setting it for a process inside changes nothing.
 */
export function workerEnv(base: NodeJS.ProcessEnv, cudaVisibleDevices: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) if (!SENSITIVE.has(name)) env[name] = value;
  env['CUDA_VISIBLE_DEVICES'] = cudaVisibleDevices;
  return env;
}
