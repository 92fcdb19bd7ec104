/** What a bearer token stands for; stored under the token's BLAKE2b hash, never the token. */
export interface TokenGrant {
  readonly tenantId: string;
  readonly userId: string;
  readonly deviceId: string;
  /** Unix milliseconds. */
  readonly expiresAt: number;
}

/**
 * Where issued tokens live, keyed by the hex BLAKE2b-512 hash of the token, so a dump of the
 * store yields no usable token. Expired grants may linger; callers check `expiresAt`.
 */
export interface TokenStore {
  put(tokenHash: string, grant: TokenGrant): Promise<void>;
  get(tokenHash: string): Promise<TokenGrant | null>;
  delete(tokenHash: string): Promise<void>;
}

/**
 * Tokens in process memory: the embedded mode's store (one process). A restart ends every
 * session and devices log in again. Expired grants are dropped as new ones arrive, so the map
 * stays bounded by the tokens alive at once.
 */
export class MemoryTokenStore implements TokenStore {
  readonly #grants = new Map<string, TokenGrant>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async put(tokenHash: string, grant: TokenGrant): Promise<void> {
    const now = this.#now();
    for (const [hash, existing] of this.#grants) {
      if (existing.expiresAt <= now) this.#grants.delete(hash);
    }
    this.#grants.set(tokenHash, grant);
  }

  async get(tokenHash: string): Promise<TokenGrant | null> {
    return this.#grants.get(tokenHash) ?? null;
  }

  async delete(tokenHash: string): Promise<void> {
    this.#grants.delete(tokenHash);
  }

  /** Number of grants held, expired ones included until the next `put`. */
  get size(): number {
    return this.#grants.size;
  }
}
