import { openAsBlob } from 'node:fs';
import { FormData, request } from 'undici';
import {
  completeUpload,
  createUpload,
  fillPath,
  listUploadParts,
  putUploadPart,
} from '@ratsfach/api-contract';
import { blobPartSize } from '@ratsfach/crypto';
import type { LocalState } from '../ports/localState.js';
import { ApiProblemError, type ApiClient } from '../http/apiClient.js';

/** How the sender reaches the upload routes: a logged-in client and its raw parts. */
export interface UploadTarget {
  readonly api: ApiClient;
  readonly baseUrl: string;
  readonly token: string;
  readonly tenantId: string;
}

/** One object to upload: a file (the spooled blob) or bytes (a key slot). */
export interface UploadObject {
  readonly committeeId: string;
  readonly kind: 'blob' | 'keyslot';
  /** Hex blob hash (over 8 MiB parts) and size: fixed when the session starts. */
  readonly hash: string;
  readonly size: number;
  readonly source: { readonly file: string } | { readonly bytes: Uint8Array };
}

/** Progress of one upload, after each part the service stored. */
export interface UploadProgress {
  readonly done: number;
  readonly size: number;
  /** Parts sent in this run (not those the service already had). */
  readonly partsSent: number;
}

export interface UploadOptions {
  /** Where the session is remembered between runs; `key` names this upload there. */
  readonly state: LocalState;
  readonly key: string;
  readonly now: () => number;
  readonly onProgress?: (progress: UploadProgress) => void;
  /** Called after each stored part: a seam for tests that interrupt an upload. */
  readonly afterPart?: (index: number) => Promise<void>;
}

const sessionGone = new Set(['RATSFACH_BLOB_SESSION_NOT_FOUND']);

/**
 * Uploads an object through an upload session and completes it, resuming where an earlier run
 * stopped: the session id is kept in the local state (`TransferProgress`), the service lists
 * the parts it has, and only the missing ones are sent. A session the service no longer knows
 * (expired, completed and collected) is started again. Parts of a file are streamed from disk
 * as `multipart/form-data`, never read whole into memory.
 */
export const uploadResumable = async (
  target: UploadTarget,
  object: UploadObject,
  options: UploadOptions,
): Promise<{ readonly partsSent: number }> => {
  const { state, key } = options;
  const params = { tenantId: target.tenantId };
  const start = async () => {
    const session = await target.api.call(createUpload, {
      params,
      body: {
        committeeId: object.committeeId,
        kind: object.kind,
        hash: object.hash,
        size: object.size,
      },
    });
    state.putTransfer({
      key,
      sessionId: session.sessionId,
      size: object.size,
      done: 0,
      updatedAt: options.now(),
    });
    return session.sessionId;
  };
  const known = state.transfer(key);
  let sessionId = known?.sessionId ?? (await start());
  let have: Set<number>;
  try {
    const listed = await target.api.call(listUploadParts, { params: { ...params, sessionId } });
    have = new Set(listed.parts.map((p) => p.index));
  } catch (error) {
    if (!(error instanceof ApiProblemError) || !sessionGone.has(error.code)) throw error;
    sessionId = await start();
    have = new Set();
  }
  const partSize = blobPartSize;
  const partCount = Math.ceil(object.size / partSize);
  const file = 'file' in object.source ? await openAsBlob(object.source.file) : undefined;
  let done = [...have].reduce((sum, i) => sum + Math.min(partSize, object.size - i * partSize), 0);
  let partsSent = 0;
  for (let index = 0; index < partCount; index += 1) {
    if (have.has(index)) continue;
    const from = index * partSize;
    const to = Math.min(object.size, from + partSize);
    const part =
      file === undefined
        ? new Blob([Buffer.from((object.source as { bytes: Uint8Array }).bytes.subarray(from, to))])
        : file.slice(from, to);
    const form = new FormData();
    form.append('part', part, 'part');
    const url = fillPath(putUploadPart.url, { ...params, sessionId, index: String(index) });
    const response = await request(`${target.baseUrl}${url}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${target.token}` },
      body: form,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw problemOf(response.statusCode, text);
    done += to - from;
    partsSent += 1;
    state.putTransfer({ key, sessionId, size: object.size, done, updatedAt: options.now() });
    options.onProgress?.({ done, size: object.size, partsSent });
    await options.afterPart?.(index);
  }
  await target.api.call(completeUpload, { params: { ...params, sessionId } });
  state.removeTransfer(key);
  return { partsSent };
};

const problemOf = (status: number, text: string): ApiProblemError => {
  try {
    const parsed = JSON.parse(text) as ConstructorParameters<typeof ApiProblemError>[0];
    if (typeof parsed.code === 'string') return new ApiProblemError({ ...parsed, status });
  } catch {
    // Not a problem document: described below.
  }
  return new ApiProblemError({
    type: 'about:blank',
    title: 'Unexpected answer',
    status,
    detail: text.slice(0, 200),
    instance: '',
    code: 'RATSFACH_CLIENT_UNEXPECTED_ANSWER',
  });
};
