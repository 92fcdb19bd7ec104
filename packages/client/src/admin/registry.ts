import { readFile } from 'node:fs/promises';
import { IntegrityError } from '@ratsfach/kernel';
import { CliErrorCode } from '../cli/cliErrorCode.js';
import { profilePath, writeFileAtomic } from '../cli/profile.js';

/**
 * The users and committees this admin device created. The service has no route that lists a
 * tenant's streams, so heartbeats and listings name what this device knows besides the
 * directory; every head it names is still read from the service and checked.
 */
export interface Registry {
  readonly users: readonly string[];
  readonly committees: readonly string[];
}

const fileName = 'admin-registry.json';

/** Reads the registry (empty when this device created nothing yet). */
export async function loadRegistry(dir: string): Promise<Registry> {
  let text: string;
  try {
    text = await readFile(profilePath(dir, fileName), 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { users: [], committees: [] };
    throw cause;
  }
  try {
    const json = JSON.parse(text) as Partial<Registry>;
    if (!Array.isArray(json.users) || !Array.isArray(json.committees)) throw new Error('shape');
    return { users: json.users, committees: json.committees };
  } catch (cause) {
    throw new IntegrityError(CliErrorCode.profileDamaged, `${fileName} in ${dir} is damaged`, {
      hint: 'Restore the admin profile from its backup.',
      details: { dir },
      cause,
    });
  }
}

/** Adds users and committees to the registry (sorted, without duplicates). */
export async function remember(dir: string, add: Partial<Registry>): Promise<void> {
  const registry = await loadRegistry(dir);
  const merge = (a: readonly string[], b: readonly string[] = []) =>
    [...new Set([...a, ...b])].sort();
  await writeFileAtomic(
    profilePath(dir, fileName),
    `${JSON.stringify({ users: merge(registry.users, add.users), committees: merge(registry.committees, add.committees) }, null, 2)}\n`,
  );
}
