import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** How far one queued change got; enough to resume it after a crash without sending it twice. */
export interface SendRecord {
  /** The queue entry's command id (the spool's key). */
  readonly commandId: string;
  /**
   * The id the service sees on every try of this entry: the queued command id and a nonce drawn
   * at its first try, so a later change that happens to plan the same action (a rename back and
   * forth) is never mistaken by the service for a retry of this one.
   */
  readonly wireId: string;
  /** The document this entry writes (drawn at the first try of a create). */
  readonly documentId: string;
  /** The content sent, once encrypted (create and commit only). */
  readonly content?: SpooledContent;
  /** The signed command bodies, kept from the moment they are first sent: retries resend them. */
  readonly commands?: readonly unknown[];
}

/** A version's encrypted content waiting in the spool: ciphertext only, never plaintext or keys. */
export interface SpooledContent {
  readonly path: string;
  readonly version: number;
  readonly epoch: number;
  /** Hex BLAKE2b-512 of the plaintext that was encrypted. */
  readonly plainHash: string;
  readonly plainSize: number;
  /** The file as it was when read (size, mtime, inode): a different file means start over. */
  readonly stamp: string;
  /** Signed modification time of the file, ms. */
  readonly modifiedAt: number;
  /** Hex blob hash (over 8 MiB parts) and size of the ciphertext in the spool. */
  readonly blobHash: string;
  readonly blobSize: number;
  /** The key slot (the content key sealed under the epoch key), base64url. */
  readonly keySlot: string;
  /** Blob and key slot are complete on the service. */
  readonly uploaded: boolean;
}

/**
 * The sender's spool in the device profile: per queued change a small JSON record and, for
 * content, the encrypted blob, so an interrupted upload resumes with the same bytes (a blob's
 * hash is fixed when its upload session starts). Holds only ciphertext and sealed key slots.
 */
export class SendSpool {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Where the encrypted blob of a change is kept. */
  blobPath(commandId: string): string {
    return join(this.dir, `${safe(commandId)}.blob`);
  }

  async read(commandId: string): Promise<SendRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.#recordPath(commandId), 'utf8')) as SendRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      // A record cut short by a crash is no record: the change starts over (it was not sent).
      if (error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  /** Writes the record atomically and durably (temp file, fsync, rename). */
  async write(record: SendRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = join(this.dir, `.${randomBytes(8).toString('hex')}.tmp`);
    const handle = await open(
      tmp,
      constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY,
      0o600,
    );
    try {
      await handle.writeFile(JSON.stringify(record));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.#recordPath(record.commandId));
  }

  /** Forgets a change's record and blob (sent, superseded or refused). */
  async remove(commandId: string): Promise<void> {
    await rm(this.blobPath(commandId), { force: true });
    await rm(this.#recordPath(commandId), { force: true });
  }

  /** Removes what belongs to no queued change any more (and temp files of a crash). */
  async sweep(queued: ReadonlySet<string>): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    const keep = new Set([...queued].map(safe));
    for (const name of names) {
      const stem = name.replace(/\.(json|blob)$/, '');
      if (name.startsWith('.') || !keep.has(stem)) await rm(join(this.dir, name), { force: true });
    }
  }

  #recordPath(commandId: string): string {
    return join(this.dir, `${safe(commandId)}.json`);
  }
}

/** A command id as a file name (they are hex today; anything else is made harmless). */
const safe = (commandId: string): string => commandId.replace(/[^A-Za-z0-9_-]/g, '_');
