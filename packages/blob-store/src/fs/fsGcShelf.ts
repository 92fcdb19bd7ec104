import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { GcRecordShelf } from '../blobGcLedger.js';
import { isErrno, mapError, type FsLayout } from './fsLayout.js';

const GC = '.gc';

/**
 * The collector's marks and the commit path's reservations as small JSON files under
 * `<root>/.gc/`, each written to `.tmp` and renamed into place (atomic). Not synced: a mark lost
 * in a power cut only delays a deletion, and a reservation matters only while the process that
 * wrote it is alive (see the package README).
 */
export class FsGcShelf implements GcRecordShelf {
  readonly #layout: FsLayout;

  constructor(layout: FsLayout) {
    this.#layout = layout;
  }

  #path(key: string): string {
    return join(this.#layout.root, GC, ...key.split('/')) + '.json';
  }

  async put(key: string, value: unknown): Promise<void> {
    const path = this.#path(key);
    const tmp = this.#layout.tmpPath(`gc-${randomBytes(12).toString('hex')}`);
    try {
      await writeFile(tmp, JSON.stringify(value));
      await mkdir(dirname(path), { recursive: true });
      await rename(tmp, path);
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      throw mapError(error);
    }
  }

  async get(key: string): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(this.#path(key), 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw mapError(error);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return null;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.#path(key));
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw mapError(error);
    }
  }

  async *list(prefix: string): AsyncIterable<{ key: string; value: unknown }> {
    const base = join(this.#layout.root, GC, ...prefix.split('/'));
    let names: string[];
    try {
      names = await readdir(base, { recursive: true });
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return;
      throw mapError(error);
    }
    for (const name of names) {
      if (!name.endsWith('.json')) continue;
      const key = `${prefix}/${name.slice(0, -'.json'.length).split('\\').join('/')}`;
      const value = await this.get(key);
      if (value !== undefined) yield { key, value };
    }
  }
}
