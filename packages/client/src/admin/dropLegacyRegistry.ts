import { unlink } from 'node:fs/promises';
import { profilePath } from '../cli/profile.js';

/** The file older admin profiles kept: `{ users, committees }` this device created. */
export const legacyRegistryFile = 'admin-registry.json';

/**
 * Removes an old admin profile's `admin-registry.json`. Admin devices once kept there the
 * users and committees they created, because nothing else named them; the service now lists
 * a tenant's chains to every admin device (`listTenantChains`), so the file holds nothing that
 * cannot be derived, and keeping it would let two admin devices disagree. Its content, damaged
 * or not, is never read. True when there was one to remove.
 */
export async function dropLegacyRegistry(dir: string): Promise<boolean> {
  try {
    await unlink(profilePath(dir, legacyRegistryFile));
    return true;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw cause;
  }
}
