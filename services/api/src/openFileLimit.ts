import { readFileSync } from 'node:fs';

/** The process's open-file limits (RLIMIT_NOFILE); `null` where the system does not say. */
export interface OpenFileLimit {
  readonly soft: number | null;
  readonly hard: number | null;
}

const parseLimit = (text: string | undefined): number | null =>
  text === undefined ? null : text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);

/**
 * Reads the open-file limits from /proc (Linux). Every connection, event stream and open blob
 * costs one descriptor, so the start script raises the soft limit to the hard one and the
 * service logs the budget it got.
 */
export function openFileLimit(limitsText?: string): OpenFileLimit {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return { soft: null, hard: null };
    }
  }
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  return { soft: parseLimit(match?.[1]), hard: parseLimit(match?.[2]) };
}
