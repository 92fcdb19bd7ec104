import { randomBytes, randomUUID } from 'node:crypto';

export interface LoginChallengeEntry {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly challenge: Uint8Array;
  /** Unix milliseconds. */
  readonly expiresAt: number;
}

/**
 * Where login challenges live between the challenge request and the login: in process memory
 * embedded (`LoginChallenges`), in PostgreSQL scale-out, where the login may reach another
 * API process than the challenge did.
 */
export interface LoginChallengeStore {
  /** A fresh random challenge for the device, open until taken or expired. */
  issue(tenantId: string, deviceId: string): Promise<{ id: string; entry: LoginChallengeEntry }>;
  /** The challenge, removed whatever happens next; null when unknown, used or expired. */
  take(id: string): Promise<LoginChallengeEntry | null>;
}

/**
 * Server nonces for login proofs: each is handed out once and taken once, so a captured proof
 * cannot be replayed, and it expires after `ttlMs`. At most `capacity` are open at once; the
 * oldest go first, so a flood of challenge requests costs bounded memory.
 */
export class LoginChallenges implements LoginChallengeStore {
  readonly #open = new Map<string, LoginChallengeEntry>();
  readonly #ttlMs: number;
  readonly #capacity: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; capacity: number; now: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#capacity = options.capacity;
    this.#now = options.now;
  }

  async issue(
    tenantId: string,
    deviceId: string,
  ): Promise<{ id: string; entry: LoginChallengeEntry }> {
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

  async take(id: string): Promise<LoginChallengeEntry | null> {
    const entry = this.#open.get(id);
    if (entry === undefined) return null;
    this.#open.delete(id);
    return entry.expiresAt > this.#now() ? entry : null;
  }
}
