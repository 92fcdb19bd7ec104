import t from 'tap';
import { cryptoReady, generateDeviceKeys, generateSigningKeyPair } from '@ratsfach/crypto';
import {
  certifyAdminDeviceCommand,
  createTenantCommand,
  createUserCommand,
  heartbeatCommand,
  nextLink,
} from '@ratsfach/client';
import { commandFromJson, foldStream, decodeEvent, type DomainEvent } from '@ratsfach/domain';
import type { EventStore, ReadStreamOptions } from '@ratsfach/event-store';
import { openMemoryEventStore } from '@ratsfach/event-store/memory';
import { DomainCommands } from './domainCommands.js';

await cryptoReady();

/** A store that counts the events each stream hands out. */
const countingStore = (store: EventStore) => {
  const reads = new Map<string, number>();
  const readStream = async function* (stream: string, options?: ReadStreamOptions) {
    for await (const recorded of store.readStream(stream, options)) {
      reads.set(stream, (reads.get(stream) ?? 0) + 1);
      yield recorded;
    }
  };
  // The store's methods use its private fields: bind them to the store itself.
  const counted = new Proxy(store, {
    get: (target, key) => {
      if (key === 'readStream') return readStream;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return { store: counted, reads };
};

const nowS = Math.floor(Date.now() / 1000);
const fromJson = (body: unknown) => commandFromJson(JSON.parse(JSON.stringify(body)));

/** A tenant with its first admin device, as commands not yet run. */
const genesis = () => {
  const root = generateSigningKeyPair();
  const admin = generateDeviceKeys();
  const create = fromJson(createTenantCommand({ tenantId: 't1', createdAt: nowS - 7200, root }));
  const certify = (link: { sequence: number; previousHash: Uint8Array }) =>
    fromJson(
      certifyAdminDeviceCommand({
        tenantId: 't1',
        userId: 'admin',
        deviceId: 'adm1',
        signingKey: admin.signing.publicKey,
        kemKey: admin.kem.publicKey,
        notBefore: nowS - 86400,
        notAfter: nowS + 86400,
        link,
        root,
      }),
    );
  return { root, admin, create, certify };
};

const fromHex = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

t.test('context streams are read on from where they were folded', async (t) => {
  const memory = await openMemoryEventStore();
  t.teardown(() => memory.close());
  const { store, reads } = countingStore(memory);
  const commands = new DomainCommands(store);
  const { admin, create, certify } = genesis();
  await commands.run(create);
  const first = await commands.head('tenant-t1');
  await commands.run(certify(nextLink(first)));
  const heartbeat = async (time: number) => {
    const head = await commands.head('tenant-t1');
    await commands.run(
      fromJson(
        heartbeatCommand({
          tenantId: 't1',
          signerDeviceId: 'adm1',
          time,
          userHeads: {},
          committeeHeads: {},
          link: { sequence: head.length, previousHash: fromHex(head.hash) },
          signer: admin.signing,
        }),
      ),
    );
  };
  for (let i = 0; i < 5; i++) await heartbeat(nowS - 600 + i);
  t.equal((await commands.head('tenant-t1')).length, 7, 'genesis, admin device, 5 heartbeats');

  reads.clear();
  const asAdmin = { tenantId: 't1', tenantPosition: 2, signerDeviceId: 'adm1' };
  await commands.run(
    fromJson(createUserCommand({ ...asAdmin, signer: admin.signing, userId: 'u1' })),
  );
  t.equal(reads.get('tenant-t1') ?? 0, 0, 'a user command reads no tenant event it has folded');
  await heartbeat(nowS - 60);
  reads.clear();
  await commands.run(
    fromJson(createUserCommand({ ...asAdmin, signer: admin.signing, userId: 'u2' })),
  );
  t.equal(reads.get('tenant-t1'), 1, 'only the heartbeat appended since is read');

  // What is folded on equals what a fresh fold of the whole stream gives.
  const events: DomainEvent[] = [];
  for await (const recorded of memory.readStream('tenant-t1')) events.push(decodeEvent(recorded));
  t.same(await commands.state('tenant-t1'), foldStream('tenant-t1', events));
  t.same(await new DomainCommands(memory).state('tenant-t1'), foldStream('tenant-t1', events));

  // An append by another writer (another process) is seen on the next read.
  const other = new DomainCommands(memory);
  await heartbeat(nowS - 30);
  t.equal((await other.head('tenant-t1')).length, 9);
  const tail = await commands.head('tenant-t1');
  await other.run(
    fromJson(
      heartbeatCommand({
        tenantId: 't1',
        signerDeviceId: 'adm1',
        time: nowS - 20,
        userHeads: {},
        committeeHeads: {},
        link: { sequence: tail.length, previousHash: fromHex(tail.hash) },
        signer: admin.signing,
      }),
    ),
  );
  t.equal((await commands.head('tenant-t1')).length, 10, "another writer's append is folded in");
});

t.test('a small cache forgets the least recently used stream and reads it whole', async (t) => {
  const memory = await openMemoryEventStore();
  t.teardown(() => memory.close());
  const { store, reads } = countingStore(memory);
  const commands = new DomainCommands(store, { cachedStreams: 1 });
  const { admin, create, certify } = genesis();
  await commands.run(create);
  await commands.run(certify(nextLink(await commands.head('tenant-t1'))));
  const asAdmin = {
    tenantId: 't1',
    tenantPosition: 2,
    signerDeviceId: 'adm1',
    signer: admin.signing,
  };
  await commands.run(fromJson(createUserCommand({ ...asAdmin, userId: 'u1' })));
  await commands.state('user-t1-u1');
  reads.clear();
  await commands.state('tenant-t1');
  t.equal(reads.get('tenant-t1'), 2, 'the user stream pushed the tenant out: read whole');
  reads.clear();
  await commands.state('tenant-t1');
  t.equal(reads.get('tenant-t1') ?? 0, 0, 'then kept');
  await commands.state('user-t1-u1');
  t.equal(reads.get('user-t1-u1'), 1, 'the user stream read whole again');
  t.equal((await commands.head('document-t1-none')).length, 0, 'an absent stream has no head');
});

t.test('check decides steps together and appends nothing', async (t) => {
  const store = await openMemoryEventStore();
  t.teardown(() => store.close());
  const commands = new DomainCommands(store);
  const { create, certify } = genesis();
  // The certificate links to the genesis: its hash comes from a run on a throw-away store.
  const scratch = await openMemoryEventStore();
  const firstHead = await new DomainCommands(scratch).run(create);
  await scratch.close();
  const linked = certify({ sequence: 1, previousHash: fromHex(firstHead.head.hash) });
  await commands.check([create, linked]);
  t.equal((await commands.head('tenant-t1')).length, 0, 'nothing appended');
  await t.rejects(commands.check([linked]), { code: /^RATSFACH_DOMAIN_/ }, 'no tenant yet');
  const foreignRoot = fromJson(
    createTenantCommand({ tenantId: 't1', createdAt: nowS - 7200, root: generateSigningKeyPair() }),
  );
  await t.rejects(
    commands.check([foreignRoot, linked]),
    { code: /^RATSFACH_/ },
    'a certificate not signed by the root the genesis names is refused with it',
  );
  t.equal((await commands.head('tenant-t1')).length, 0, 'and still nothing appended');
});

/** A tenant with its admin device run on `commands`, and a heartbeat step signed by that device. */
const foundedTenant = async (commands: DomainCommands) => {
  const { admin, create, certify } = genesis();
  await commands.run(create);
  await commands.run(certify(nextLink(await commands.head('tenant-t1'))));
  const heartbeatAt = (time: number, head: { length: number; hash: string }) =>
    fromJson(
      heartbeatCommand({
        tenantId: 't1',
        signerDeviceId: 'adm1',
        time,
        userHeads: {},
        committeeHeads: {},
        link: { sequence: head.length, previousHash: fromHex(head.hash) },
        signer: admin.signing,
      }),
    );
  return { admin, heartbeatAt };
};

const storedFold = async (store: EventStore, stream: string) => {
  const events: DomainEvent[] = [];
  for await (const recorded of store.readStream(stream)) events.push(decodeEvent(recorded));
  return foldStream(stream, events);
};

t.test('check keeps none of what it decided in the folds it remembers', async (t) => {
  const memory = await openMemoryEventStore();
  t.teardown(() => memory.close());
  const { store, reads } = countingStore(memory);
  const commands = new DomainCommands(store);
  const { heartbeatAt } = await foundedTenant(commands);
  const before = await commands.state('tenant-t1');
  const head = await commands.head('tenant-t1');
  const first = heartbeatAt(nowS - 300, head);
  await commands.check([first]);
  t.same(await commands.state('tenant-t1'), before, 'the remembered fold is the stored one');
  t.same(await commands.state('tenant-t1'), await storedFold(memory, 'tenant-t1'));

  // A batch whose second step is refused after its first was decided leaves nothing either.
  const repeated = heartbeatAt(nowS - 200, head);
  await t.rejects(
    commands.check([first, repeated]),
    { code: 'RATSFACH_DOMAIN_CHAIN_STALE' },
    'the second step links to the head the first one replaced',
  );
  reads.clear();
  t.equal((await commands.head('tenant-t1')).length, 2, 'still genesis and admin device');
  t.equal(reads.get('tenant-t1') ?? 0, 0, 'and nothing new to read');
  // The first step is still valid against what is stored: nothing of a check was kept.
  t.equal((await commands.run(first)).head.length, 3);
});

t.test('a read that fails midway keeps nothing of what it folded', async (t) => {
  const memory = await openMemoryEventStore();
  t.teardown(() => memory.close());
  let failAfter: number | null = null;
  const failing = new Proxy(memory, {
    get: (target, key) => {
      if (key === 'readStream') {
        return async function* (stream: string, options?: ReadStreamOptions) {
          let handed = 0;
          for await (const recorded of target.readStream(stream, options)) {
            if (failAfter !== null && handed === failAfter) throw new Error('connection lost');
            handed += 1;
            yield recorded;
          }
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  const writer = new DomainCommands(memory);
  const { heartbeatAt } = await foundedTenant(writer);
  for (let i = 0; i < 3; i++) {
    await writer.run(heartbeatAt(nowS - 500 + i, await writer.head('tenant-t1')));
  }
  const commands = new DomainCommands(failing);
  failAfter = 2;
  await t.rejects(commands.state('tenant-t1'), { message: 'connection lost' });
  failAfter = null;
  t.same(
    await commands.state('tenant-t1'),
    await storedFold(memory, 'tenant-t1'),
    'the next read folds the whole stream, not on from the failed one',
  );
  t.equal((await commands.head('tenant-t1')).length, 5);

  // Remembered at 5 events; a failure reading on from there keeps the fold at 5.
  await writer.run(heartbeatAt(nowS - 100, await writer.head('tenant-t1')));
  await writer.run(heartbeatAt(nowS - 90, await writer.head('tenant-t1')));
  failAfter = 1;
  await t.rejects(commands.head('tenant-t1'), { message: 'connection lost' });
  failAfter = null;
  t.equal((await commands.head('tenant-t1')).length, 7, 'both new events folded, once each');
  t.same(await commands.state('tenant-t1'), await storedFold(memory, 'tenant-t1'));
});

t.test('a fold that finishes late does not replace a further one', async (t) => {
  const memory = await openMemoryEventStore();
  t.teardown(() => memory.close());
  const { store, reads } = countingStore(memory);
  // The first read of the tenant stream takes what is stored, then waits to be let go.
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  const slow = new Proxy(store, {
    get: (target, key) => {
      if (key === 'readStream') {
        return async function* (stream: string, options?: ReadStreamOptions) {
          const taken = [];
          for await (const recorded of target.readStream(stream, options)) taken.push(recorded);
          if (!held && stream === 'tenant-t1') {
            held = true;
            await released;
          }
          yield* taken;
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  const writer = new DomainCommands(memory);
  const { heartbeatAt } = await foundedTenant(writer);
  const commands = new DomainCommands(slow);
  const late = commands.state('tenant-t1');
  await writer.run(heartbeatAt(nowS - 100, await writer.head('tenant-t1')));
  t.equal((await commands.head('tenant-t1')).length, 3, 'a read after the append sees it');
  release();
  t.equal(
    ((await late) as { chain: { length: number } }).chain.length,
    2,
    'the held read folded what it took',
  );
  reads.clear();
  t.equal((await commands.head('tenant-t1')).length, 3, 'the further fold is the one kept');
  t.equal(reads.get('tenant-t1') ?? 0, 0, 'so nothing is read again');
});

t.test('a stale link comes back as a conflict with the head now', async (t) => {
  const memory = await openMemoryEventStore();
  t.teardown(() => memory.close());
  const commands = new DomainCommands(memory);
  const { heartbeatAt } = await foundedTenant(commands);
  const stale = await commands.head('tenant-t1');
  // Another process appends: this instance has the tenant folded at the older head.
  const other = new DomainCommands(memory);
  await other.run(heartbeatAt(nowS - 100, stale));
  const now = await other.head('tenant-t1');
  const error = await commands.run(heartbeatAt(nowS - 50, stale)).then(
    () => null,
    (e: unknown) => e,
  );
  t.match(error, {
    code: 'RATSFACH_DOMAIN_CHAIN_STALE',
    details: { current: { stream: 'tenant-t1', length: 3, hash: now.hash } },
  });
  t.equal((await commands.head('tenant-t1')).length, 3, 'nothing appended');
});
