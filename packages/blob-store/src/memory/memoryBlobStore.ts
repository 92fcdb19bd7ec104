import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  assertBlobRef,
  assertKind,
  assertTenant,
  type BlobKind,
  type BlobRef,
} from '../blobRef.js';
import type {
  BlobBody,
  BlobContent,
  BlobInfo,
  BlobStore,
  BlobStoreCapabilities,
  ByteRange,
  CreateSessionInput,
  ListSessionsOptions,
  PartInfo,
  PresignedGet,
  PutInput,
  UploadSession,
} from '../blobStore.js';
import type { GcRecordShelf } from '../blobGcLedger.js';
import { BlobNotFoundError, BlobSessionBusyError, BlobSessionNotFoundError } from '../errors.js';
import { BLOB_PART_SIZE, createObjectHasher, createPartHash, partCountFor } from '../partHash.js';
import {
  checkCompletion,
  checkExpectedPartHash,
  checkPartHash,
  checkPartIndex,
  checkPartSize,
  checkPresignTtl,
  checkSessionInput,
  checkWholeHash,
  checkWholeSize,
  isSessionId,
  partTooLong,
  partTooShort,
  resolveRange,
} from '../uploadRules.js';

/** Options of the memory store. */
export interface MemoryBlobStoreOptions {
  /** Default part size of the blob hash and of sessions (default BLOB_PART_SIZE, 8 MiB). */
  readonly partSize?: number;
  /** The clock objects and sessions are dated by (a fake clock in tests). */
  readonly now?: () => Date;
}

interface StoredObject {
  readonly bytes: Buffer;
  createdAt: Date;
}

interface StoredPart extends PartInfo {
  /** The very bytes the hash was computed over: a part's record binds its bytes. */
  readonly bytes: Buffer;
}

interface Session extends UploadSession {
  readonly parts: Map<number, StoredPart>;
  readonly writing: Set<number>;
  completing: boolean;
  lastWrite: Date;
}

/** Everything two instances over "the same backend" share (see `reopen`). */
interface MemoryState {
  readonly objects: Map<string, StoredObject>;
  readonly sessions: Map<string, Session>;
  /** Sessions completed lately, so a repeated complete returns the object (bounded). */
  readonly completed: Map<string, BlobRef>;
  readonly gc: Map<string, string>;
}

const MAX_REMEMBERED_COMPLETIONS = 10_000;

const objectKey = (r: BlobRef): string => `${r.tenant}/${r.kind}/${r.hash}`;
const sessionKey = (tenant: string, id: string): string => `${tenant}/${id}`;

/**
 * A blob store in memory, for fast tests of the API, projector and client; never a product
 * backend (nothing survives the process). It keeps every promise of the BlobStore port and
 * passes the shared contract suite: sizes and hashes are checked, each part keeps the very
 * bytes its hash was computed over, complete hashes the exact bytes that become the object, and
 * an existing object whose bytes fail its hash is replaced by checked ones, never kept.
 */
export class MemoryBlobStore implements BlobStore {
  readonly partSize: number;
  readonly capabilities: BlobStoreCapabilities = { presignGet: false };
  readonly #now: () => Date;
  readonly #state: MemoryState;
  readonly gcShelf: GcRecordShelf;

  constructor(options: MemoryBlobStoreOptions = {}, state?: MemoryState) {
    this.partSize = options.partSize ?? BLOB_PART_SIZE;
    checkPartSize(this.partSize);
    this.#now = options.now ?? (() => new Date());
    const shared = (this.#state = state ?? {
      objects: new Map(),
      sessions: new Map(),
      completed: new Map(),
      gc: new Map(),
    });
    this.gcShelf = {
      put: async (key, value) => void shared.gc.set(key, JSON.stringify(value)),
      get: async (key) => {
        const text = shared.gc.get(key);
        return text === undefined ? undefined : (JSON.parse(text) as unknown);
      },
      delete: async (key) => void shared.gc.delete(key),
      async *list(prefix) {
        for (const [key, text] of [...shared.gc]) {
          if (key.startsWith(`${prefix}/`)) yield { key, value: JSON.parse(text) as unknown };
        }
      },
    };
  }

  /** A second instance over the same objects and sessions, as another process would be. */
  reopen(options: MemoryBlobStoreOptions = {}): MemoryBlobStore {
    return new MemoryBlobStore(
      { partSize: options.partSize ?? this.partSize, now: options.now ?? this.#now },
      this.#state,
    );
  }

  async createSession(input: CreateSessionInput): Promise<UploadSession> {
    const partSize = checkSessionInput(input, this.partSize);
    const now = this.#now();
    const session: Session = {
      id: randomBytes(16).toString('hex'),
      tenant: input.tenant,
      kind: input.kind,
      hash: input.hash,
      size: input.size,
      partSize,
      partCount: partCountFor(input.size, partSize),
      createdAt: now,
      updatedAt: now,
      parts: new Map(),
      writing: new Set(),
      completing: false,
      lastWrite: now,
    };
    this.#state.sessions.set(sessionKey(input.tenant, session.id), session);
    return viewOf(session);
  }

  async getSession(tenant: string, sessionId: string): Promise<UploadSession> {
    return viewOf(this.#session(tenant, sessionId));
  }

  async putPart(
    tenant: string,
    sessionId: string,
    index: number,
    body: BlobBody,
    expectedHash?: string,
  ): Promise<PartInfo> {
    const session = this.#session(tenant, sessionId);
    checkExpectedPartHash(expectedHash);
    const length = checkPartIndex(session, index);
    if (session.completing || session.writing.has(index)) {
      throw new BlobSessionBusyError(`part ${String(index)} of session ${sessionId} is busy`, {
        details: { index },
      });
    }
    session.writing.add(index);
    // A rewrite drops the old part first: a failed one leaves the index absent.
    session.parts.delete(index);
    try {
      const bytes = Buffer.allocUnsafe(length);
      const hasher = createPartHash();
      let filled = 0;
      for await (const chunk of body) {
        if (filled + chunk.length > length) throw partTooLong(index, length);
        bytes.set(chunk, filled);
        hasher.update(chunk);
        filled += chunk.length;
      }
      if (filled < length) throw partTooShort(index, length, filled);
      const hash = hasher.digest('hex');
      checkPartHash(index, hash, expectedHash);
      if (this.#state.sessions.get(sessionKey(tenant, sessionId)) !== session) {
        throw sessionNotFound(tenant, sessionId);
      }
      session.parts.set(index, { index, size: length, hash, bytes });
      session.lastWrite = this.#now();
      return { index, size: length, hash };
    } finally {
      session.writing.delete(index);
    }
  }

  async listParts(tenant: string, sessionId: string): Promise<PartInfo[]> {
    const session = this.#session(tenant, sessionId);
    return [...session.parts.values()]
      .sort((a, b) => a.index - b.index)
      .map(({ index, size, hash }) => ({ index, size, hash }));
  }

  async completeSession(tenant: string, sessionId: string): Promise<BlobInfo> {
    assertTenant(tenant);
    const done = this.#state.completed.get(sessionKey(tenant, sessionId));
    const existing = done && this.#state.objects.get(objectKey(done));
    if (done && existing) {
      existing.createdAt = this.#now();
      return infoOf(done, existing);
    }
    const session = this.#session(tenant, sessionId);
    if (session.completing || session.writing.size > 0) {
      throw new BlobSessionBusyError(`session ${sessionId} has a write or completion running`, {
        details: { partsInFlight: [...session.writing] },
      });
    }
    const parts = [...session.parts.values()];
    checkCompletion(session, parts);
    // The object is made of the parts' own bytes, hashed again as a whole.
    const bytes = Buffer.concat(
      parts.sort((a, b) => a.index - b.index).map((p) => p.bytes),
      session.size,
    );
    const info = this.#store(session, bytes, session.partSize);
    this.#state.sessions.delete(sessionKey(tenant, sessionId));
    if (this.#state.completed.size >= MAX_REMEMBERED_COMPLETIONS) this.#state.completed.clear();
    this.#state.completed.set(sessionKey(tenant, sessionId), {
      tenant,
      kind: session.kind,
      hash: session.hash,
    });
    return info;
  }

  async abortSession(tenant: string, sessionId: string): Promise<void> {
    assertTenant(tenant);
    if (!isSessionId(sessionId)) return;
    this.#state.sessions.delete(sessionKey(tenant, sessionId));
  }

  async *listSessions(
    tenant: string,
    _options?: ListSessionsOptions,
  ): AsyncIterable<UploadSession> {
    // Sessions in memory cannot be damaged; `_options.onDamaged` is never called.
    assertTenant(tenant);
    for (const session of [...this.#state.sessions.values()]) {
      if (session.tenant === tenant) yield viewOf(session);
    }
  }

  async put(input: PutInput, body: BlobBody): Promise<BlobInfo> {
    const partSize = checkSessionInput(input, this.partSize);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      if (size + chunk.length > input.size) checkWholeSize(size + chunk.length, input.size);
      chunks.push(Buffer.from(chunk));
      size += chunk.length;
    }
    checkWholeSize(size, input.size);
    return this.#store(input, Buffer.concat(chunks, size), partSize);
  }

  async get(ref: BlobRef, range?: ByteRange): Promise<BlobContent> {
    assertBlobRef(ref);
    const object = this.#state.objects.get(objectKey(ref));
    if (object === undefined) throw blobNotFound(ref);
    const { offset, length } = resolveRange(object.bytes.length, range);
    const slice = object.bytes.subarray(offset, offset + length);
    return {
      body: Readable.from(length > 0 ? [slice] : []),
      size: object.bytes.length,
      offset,
      length,
    };
  }

  async head(ref: BlobRef): Promise<BlobInfo | null> {
    assertBlobRef(ref);
    const object = this.#state.objects.get(objectKey(ref));
    return object === undefined ? null : infoOf(ref, object);
  }

  async delete(ref: BlobRef): Promise<boolean> {
    assertBlobRef(ref);
    return this.#state.objects.delete(objectKey(ref));
  }

  async *list(tenant: string, kind: BlobKind): AsyncIterable<BlobInfo> {
    assertTenant(tenant);
    assertKind(kind);
    const prefix = `${tenant}/${kind}/`;
    for (const [key, object] of [...this.#state.objects]) {
      if (!key.startsWith(prefix)) continue;
      yield infoOf({ tenant, kind, hash: key.slice(prefix.length) }, object);
    }
  }

  async *listTenants(): AsyncIterable<string> {
    const seen = new Set<string>();
    for (const key of this.#state.objects.keys()) seen.add(key.slice(0, key.indexOf('/')));
    for (const session of this.#state.sessions.values()) seen.add(session.tenant);
    yield* seen;
  }

  async presignGet(ref: BlobRef, ttlSeconds: number): Promise<PresignedGet | null> {
    assertBlobRef(ref);
    checkPresignTtl(ttlSeconds);
    return null;
  }

  async close(): Promise<void> {
    // Nothing to release; the objects live as long as the instances that share them.
  }

  /**
   * Makes checked bytes the object. An existing object whose bytes hash to its key is kept and
   * its age restarts; one whose bytes do not is replaced (it can only be damaged).
   */
  #store(ref: BlobRef, bytes: Buffer, partSize: number): BlobInfo {
    checkWholeHash(hashOf(ref.kind, bytes, partSize), ref.hash);
    const key = objectKey(ref);
    const existing = this.#state.objects.get(key);
    const now = this.#now();
    if (existing !== undefined && existing.bytes.equals(bytes)) {
      existing.createdAt = now;
      return infoOf(ref, existing);
    }
    const object: StoredObject = { bytes, createdAt: now };
    this.#state.objects.set(key, object);
    return infoOf(ref, object);
  }

  #session(tenant: string, sessionId: string): Session {
    assertTenant(tenant);
    const session = isSessionId(sessionId)
      ? this.#state.sessions.get(sessionKey(tenant, sessionId))
      : undefined;
    if (session === undefined) throw sessionNotFound(tenant, sessionId);
    return session;
  }
}

function hashOf(kind: BlobKind, bytes: Buffer, partSize: number): string {
  const hasher = createObjectHasher(kind, partSize);
  hasher.update(bytes);
  return hasher.digestHex();
}

function viewOf(s: Session): UploadSession {
  return {
    id: s.id,
    tenant: s.tenant,
    kind: s.kind,
    hash: s.hash,
    size: s.size,
    partSize: s.partSize,
    partCount: s.partCount,
    createdAt: s.createdAt,
    updatedAt: s.lastWrite,
  };
}

const infoOf = (ref: BlobRef, object: StoredObject): BlobInfo => ({
  tenant: ref.tenant,
  kind: ref.kind,
  hash: ref.hash,
  size: object.bytes.length,
  createdAt: object.createdAt,
});

const sessionNotFound = (tenant: string, sessionId: string) =>
  new BlobSessionNotFoundError(`no upload session ${JSON.stringify(sessionId)} in this tenant`, {
    details: { tenant, sessionId: String(sessionId).slice(0, 64) },
  });

const blobNotFound = (ref: BlobRef) =>
  new BlobNotFoundError(`no ${ref.kind} ${ref.hash.slice(0, 16)}… in tenant ${ref.tenant}`, {
    details: { tenant: ref.tenant, kind: ref.kind, hash: ref.hash },
  });
