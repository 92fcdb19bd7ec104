import { randomBytes, randomUUID } from 'node:crypto';

export interface LoginChallengeEntry {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly challenge: Uint8Array;
  /** Unix milliseconds. */
  readonly expiresAt: number;
}

/**
 * Server nonces for login proofs: each is handed out once and taken once, so a captured proof
 * cannot be replayed, and it expires after `ttlMs`. At most `capacity` are open at once; the
 * oldest go first, so a flood of challenge requests costs bounded memory.
 */
export class LoginChallenges {
  readonly #open = new Map<string, LoginChallengeEntry>();
  readonly #ttlMs: number;
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; capacity: number; now: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#capacity = options.capacity;
    this.#now = options.now;
  }

  issue(tenantId: string, deviceId: string): { id: string; entry: LoginChallengeEntry } {
    while (this.#open.size >= this.#capacity) {
      const oldest = this.#open.keys().next().value;
      if (oldest === undefined) break;
      this.#open.delete(oldest);
    }
    const id = randomUUID();
    const entry = {
      tenantId,
      deviceId,
      challenge: new Uint8Array(randomBytes(32)),
      expiresAt: this.#now() + this.#ttlMs,
    };
    this.#open.set(id, entry);
    return { id, entry };
  }

  /** The challenge, removed whatever happens next; null when unknown, used or expired. */
  take(id: string): LoginChallengeEntry | null {
    const entry = this.#open.get(id);
    if (entry === undefined) return null;
    this.#open.delete(id);
    return entry.expiresAt > this.#now() ? entry : null;
  }
}
