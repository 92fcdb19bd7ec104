import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { binaryEvent, KurrentDBClient, BACKWARDS, END } from '@kurrent/kurrentdb-client';
import type { EventStore } from '../src/eventStore.js';
import { encodeKurrentEnvelope } from '../src/kurrent/kurrentEnvelope.js';
import {
  fromKurrentRecord,
  KurrentStreamNames,
  openKurrentEventStore,
  type KurrentEventStoreOptions,
} from '../src/kurrent/kurrentEventStore.js';
import {
  runEventStoreContract,
  type ContractBackend,
  type ContractStoreOptions,
  type TestContext,
} from './contract.js';

const adapterModule = fileURLToPath(
  new URL('../src/kurrent/kurrentEventStore.ts', import.meta.url),
);

/** The end of the server's log now: a case reads only what comes after it. */
async function endOfLog(client: KurrentDBClient): Promise<bigint | undefined> {
  for await (const resolved of client.readAll({
    direction: BACKWARDS,
    fromPosition: END,
    maxCount: 1,
  })) {
    return resolved.event?.position?.commit;
  }
  return undefined;
}

/**
 * One contract case on a shared KurrentDB server. The server cannot be emptied between cases, so
 * each case gets a namespace of its own (its streams are `<namespace>:<stream>`) and starts
 * reading the log after its current end.
 */
async function openBackend(
  url: string,
  options: ContractStoreOptions = {},
): Promise<ContractBackend> {
  const namespace = `c${randomBytes(8).toString('hex')}`;
  const storeOptions: KurrentEventStoreOptions = {
    connectionString: url,
    namespace,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  };
  const raw = KurrentDBClient.connectionString(url);
  const startAfter = await endOfLog(raw);
  const opened: EventStore[] = [];
  const open = async (): Promise<EventStore> => {
    const store = await openKurrentEventStore(storeOptions);
    opened.push(store);
    return store;
  };
  const store = await open();
  const names = new KurrentStreamNames(namespace);
  return {
    store,
    tenant: 't1',
    ...(startAfter === undefined ? {} : { startAfter }),
    reopen: open,
    child: { module: adapterModule, exportName: 'openKurrentEventStore', arg: storeOptions },
    /**
     * KurrentDB never changes a stored event, so this cannot flip a byte of an existing one.
     * It does the closest thing an attacker with write access could: appends, through a raw
     * client call, a forged event after the stream's head whose envelope links to the head but
     * whose hash does not match its bytes. `verify` must name that event; it sits at the head's
     * revision + 1, which it returns, so the contract case checks that `verify` names it.
     */
    async corrupt(stream) {
      let head: ReturnType<typeof fromKurrentRecord> | undefined;
      for await (const resolved of raw.readStream(names.toKurrent(stream), {
        direction: BACKWARDS,
        fromRevision: END,
        maxCount: 1,
      })) {
        if (resolved.event !== undefined) head = fromKurrentRecord(resolved.event, stream);
      }
      if (head === undefined) throw new Error(`no stream ${stream} to corrupt`);
      const forgedHash = head.hash.slice();
      forgedHash[0] = (forgedHash[0] ?? 0) ^ 0x01;
      await raw.appendToStream(
        names.toKurrent(stream),
        binaryEvent({
          type: 'Forged.v1',
          data: new TextEncoder().encode('forged'),
          metadata: encodeKurrentEnvelope({
            prevHash: head.hash,
            hash: forgedHash,
            metadata: new Uint8Array(0),
          }),
        }),
        { streamState: head.revision },
      );
      return { revision: head.revision + 1n };
    },
    async destroy() {
      for (const opened_ of opened) await opened_.close();
      await raw.dispose();
    },
  };
}

/**
 * Runs the shared contract suite against the KurrentDB server named by KURRENTDB_URL, or says
 * plainly that it did not run: no KurrentDB server can be installed on the CI machines.
 */
export function runKurrentContract(t: TestContext): void {
  const url = process.env.KURRENTDB_URL;
  if (url === undefined || url === '') {
    t.comment('KurrentDB contract suite not run: KURRENTDB_URL is not set');
    return;
  }
  t.test('KurrentDB adapter passes the event-store contract', async (t) => {
    runEventStoreContract(t, { open: (options) => openBackend(url, options) });
  });
}
