import type { Filter } from '@kurrent/kurrentdb-client';

const namespacePattern = /^[a-z0-9_]{1,64}$/;
/** Every ratsfach stream name starts with its kind in lowercase letters and has no `:` or `!`. */
const ownStreamWithoutNamespace = /^[a-z][^:!]*$/;

/**
 * How ratsfach stream names map to KurrentDB stream ids: `<namespace>:<stream>` for data,
 * `<namespace>!command-<first event id>` for the command claims that make a command id
 * single-stream. Claims never match the data prefix, so reads of the log skip them. Without a
 * namespace, data streams keep their own names and claims are `!command-<id>`.
 */
export class KurrentStreamNames {
  readonly #prefix: string;
  readonly #claimPrefix: string;

  constructor(namespace: string | undefined) {
    if (namespace !== undefined && !namespacePattern.test(namespace)) {
      throw new RangeError('namespace must be 1 to 64 of [a-z0-9_]');
    }
    this.#prefix = namespace === undefined ? '' : `${namespace}:`;
    this.#claimPrefix = `${namespace ?? ''}!command-`;
  }

  toKurrent(stream: string): string {
    return `${this.#prefix}${stream}`;
  }

  claimOf(firstEventId: string): string {
    return `${this.#claimPrefix}${firstEventId}`;
  }

  /** The ratsfach stream name of a KurrentDB stream id, or null when it is not one of ours. */
  fromKurrent(streamId: string): string | null {
    if (this.#prefix === '') return ownStreamWithoutNamespace.test(streamId) ? streamId : null;
    return streamId.startsWith(this.#prefix) ? streamId.slice(this.#prefix.length) : null;
  }

  /** A server-side filter for subscriptions; readers still check every event themselves. */
  serverFilter(): Filter {
    // The shape the client's streamNameFilter() builds, without loading the client for it.
    return this.#prefix === ''
      ? { filterOn: 'streamName', checkpointInterval: 1, regex: ownStreamWithoutNamespace.source }
      : { filterOn: 'streamName', checkpointInterval: 1, prefixes: [this.#prefix] };
  }
}
