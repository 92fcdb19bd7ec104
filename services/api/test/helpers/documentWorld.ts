// A tenant with a committee, a staff member and readers, on real stores (SQLite log, SQLite read
// model fed by the projector, filesystem blobs), served over real HTTP with the real crypto.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { BlobStore } from '@ratsfach/blob-store';
import { FsBlobStore } from '@ratsfach/blob-store/fs';
import {
  blobHash,
  cryptoReady,
  encryptContent,
  encryptMetadata,
  epochKeyCommitment,
  fingerprint,
  generateContentKey,
  generateDeviceKeys,
  generateEpochKey,
  generateSigningKeyPair,
  keySlotHash,
  sealKeySlot,
  signRecord,
  sodium,
  wrapEpochKey,
  type DeviceKeys,
} from '@ratsfach/crypto';
import {
  ApiClient,
  certifyAdminDeviceCommand,
  certifyDeviceCommand,
  changeMembershipCommand,
  coSignMembershipCommand,
  commitVersionCommand,
  confirmDeviceCommand,
  createCommitteeCommand,
  createDocumentCommand,
  createTenantCommand,
  createUserCommand,
  heartbeatCommand,
  nextLink,
  revokeDeviceCommand,
  startKeyEpochCommand,
} from '@ratsfach/client';
import {
  commitVersion,
  completeUpload,
  createDocument,
  createUpload,
  type DocumentHead,
} from '@ratsfach/api-contract';
import { commandFromJson, decodeEvent, type ChainHead, type MemberRole } from '@ratsfach/domain';
import type { EventStore } from '@ratsfach/event-store';
import { openSqliteEventStore } from '@ratsfach/event-store/sqlite';
import type { ReadModelStore } from '@ratsfach/read-model';
import { openSqliteReadModelStore } from '@ratsfach/read-model/sqlite';
import { runProjector } from '@ratsfach/projector';
import { DomainCommands } from '../../src/commands/domainCommands.js';
import { SqliteServiceState } from '../../src/state/sqliteServiceState.js';
import { buildTestApp } from './buildTestApp.js';
import { loginToken } from './logIn.js';

await cryptoReady();

const hex = (bytes: Uint8Array) => sodium().to_hex(bytes);
const fromHex = (text: string) => sodium().from_hex(text);

/** A device of the world: its ids and keys, and a client logged in as it. */
export interface WorldDevice {
  readonly tenantId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly keys: DeviceKeys;
  api: ApiClient;
  token: string;
}

/** Something the test lets go of at its end. */
interface Teardown {
  teardown(fn: () => unknown): void;
}

/** The world's own stores in a temporary directory, its projector and its app over HTTP. */
async function localBackend(t: Teardown, openBlobStore?: () => Promise<BlobStore>) {
  const dir = await mkdtemp(join(tmpdir(), 'ratsfach-docs-'));
  const eventStore = await openSqliteEventStore({ path: join(dir, 'events.sqlite') });
  const readModel = await openSqliteReadModelStore({ path: join(dir, 'read.sqlite') });
  const blobStore = openBlobStore
    ? await openBlobStore()
    : await FsBlobStore.open({ root: join(dir, 'blobs'), sweepIntervalMs: 0 });
  // Who opened which upload session (the upload and commit routes need it).
  const serviceState = SqliteServiceState.open(join(dir, 'service-state.sqlite'));
  const controller = new AbortController();
  const projector = runProjector({
    eventStore,
    readModel,
    signal: controller.signal,
    flushDelayMs: 2,
  }).catch((error: unknown) => error);
  const app: FastifyInstance = await buildTestApp(t, {
    stores: { eventStore, blobStore },
    readModel,
    serviceState,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  t.teardown(async () => {
    controller.abort();
    await projector;
    await app.close();
    await serviceState.close();
    await blobStore.close();
    await readModel.close();
    await eventStore.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { eventStore, readModel, blobStore, baseUrl, app, serviceState };
}

/**
 * Stores and an API the world does not own (scale-out: PostgreSQL, S3, API processes and a
 * projector process started by the test): the world runs no app and no projector of its own.
 */
export interface WorldBackend {
  readonly eventStore: EventStore;
  readonly readModel: ReadModelStore;
  readonly blobStore: BlobStore;
  /** The API devices of the world log in to. */
  readonly baseUrl: string;
}

export async function documentWorld(
  t: Teardown,
  tenantIds: readonly string[] = ['t1'],
  /** The blob store to use (an S3 one, say); a filesystem store in the world's directory else. */
  openBlobStore?: () => Promise<BlobStore>,
  backend?: WorldBackend,
) {
  const local = backend === undefined ? await localBackend(t, openBlobStore) : null;
  const { eventStore, readModel, blobStore, baseUrl } = (backend ?? local)!;
  const app = local?.app as FastifyInstance;
  /** Who opened which upload session; null when the API processes are not the world's own. */
  const serviceState = local?.serviceState ?? null;
  const commands = new DomainCommands(eventStore);
  const nowSec = Math.floor(Date.now() / 1000);
  const validity = { notBefore: nowSec - 86400, notAfter: nowSec + 30 * 86400 };

  /** Waits until the projector has applied everything in the log. */
  const settled = async () => {
    for (let i = 0; i < 2000; i++) {
      const checkpoint = await readModel.checkpoint();
      let behind = false;
      for await (const _ of eventStore.readAll({
        ...(checkpoint === null ? {} : { after: checkpoint }),
        maxCount: 1,
      })) {
        behind = true;
      }
      if (!behind) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error('the projector did not catch up');
  };

  /** Appends a command the way the service would (setup of what other routes own). */
  const run = async (body: unknown) =>
    commands.run(commandFromJson(JSON.parse(JSON.stringify(body))));

  const head = async (stream: string): Promise<DocumentHead> => commands.head(stream);

  /** Logs the device in at `at` (another API process, say); returns its token. */
  const loginAt = async (device: Omit<WorldDevice, 'api' | 'token'>, at: string) =>
    loginToken(
      new ApiClient({ baseUrl: at }),
      device.tenantId,
      device.deviceId,
      device.keys.signing,
    );
  const loginAs = (device: Omit<WorldDevice, 'api' | 'token'>) => loginAt(device, baseUrl);

  const tenants = new Map<
    string,
    { admin: DeviceKeys; root: ReturnType<typeof generateSigningKeyPair> }
  >();
  for (const tenantId of tenantIds) {
    const root = generateSigningKeyPair();
    const admin = generateDeviceKeys();
    await run(createTenantCommand({ tenantId, createdAt: nowSec - 7200, root }));
    await run(
      certifyAdminDeviceCommand({
        tenantId,
        userId: 'admin',
        deviceId: 'adm1',
        signingKey: admin.signing.publicKey,
        kemKey: admin.kem.publicKey,
        ...validity,
        link: nextLink(await head(`tenant-${tenantId}`)),
        root,
      }),
    );
    tenants.set(tenantId, { admin, root });
  }
  const tenantPosition = 2;
  const asAdmin = (tenantId: string) => ({
    tenantId,
    tenantPosition,
    signerDeviceId: 'adm1',
    signer: tenants.get(tenantId)!.admin.signing,
  });

  /** Users and committees by tenant, for the heads a heartbeat names. */
  const usersOf = new Map<string, Set<string>>();
  const committeesOf = new Map<string, Set<string>>();
  const remember = (map: Map<string, Set<string>>, tenantId: string, id: string) =>
    map.set(tenantId, (map.get(tenantId) ?? new Set()).add(id));

  /** Certifies one more device of an existing user and logs it in. */
  const addDevice = async (tenantId: string, userId: string, deviceId: string) => {
    const keys = generateDeviceKeys();
    await run(
      certifyDeviceCommand({
        ...asAdmin(tenantId),
        userId,
        deviceId,
        signingKey: keys.signing.publicKey,
        kemKey: keys.kem.publicKey,
        ...validity,
        enrolmentCodeId: null,
        link: nextLink(await head(`user-${tenantId}-${userId}`)),
      }),
    );
    const device = { tenantId, userId, deviceId, keys } as WorldDevice;
    await settled();
    device.token = await loginAs(device);
    device.api = new ApiClient({ baseUrl, token: device.token });
    return device;
  };

  /** Creates a user with one certified device and logs it in. */
  const person = async (tenantId: string, userId: string, deviceId: string) => {
    remember(usersOf, tenantId, userId);
    await run(createUserCommand({ ...asAdmin(tenantId), userId }));
    return addDevice(tenantId, userId, deviceId);
  };

  /** An admin device revokes `device` (a signed record in its user chain). */
  const revokeDevice = async (device: Omit<WorldDevice, 'api' | 'token'>, reason = 'lost') => {
    await run(
      revokeDeviceCommand({
        ...asAdmin(device.tenantId),
        userId: device.userId,
        deviceId: device.deviceId,
        fingerprint: fingerprint(device.keys.signing.publicKey),
        reason,
        link: nextLink(await head(`user-${device.tenantId}-${device.userId}`)),
      }),
    );
    await settled();
  };

  const committeeStream = (tenantId: string, committeeId: string) =>
    `committee-${tenantId}-${committeeId}`;
  const committeeHead = async (tenantId: string, committeeId: string): Promise<ChainHead> => {
    const h = await head(committeeStream(tenantId, committeeId));
    return { length: h.length, hash: h.length === 0 ? new Uint8Array(64) : fromHex(h.hash) };
  };

  const createCommittee = async (tenantId: string, committeeId: string) => {
    remember(committeesOf, tenantId, committeeId);
    await run(createCommitteeCommand({ ...asAdmin(tenantId), committeeId }));
  };

  /**
   * The admin device signs a heartbeat naming every user's and committee's chain head now (what
   * the admin agent does), so staff devices may write (FORMAT.md "Wrapping and writing").
   */
  const heartbeat = async (tenantId: string, time = Math.floor(Date.now() / 1000)) => {
    const userHeads: Record<string, Uint8Array> = {};
    for (const userId of usersOf.get(tenantId) ?? []) {
      userHeads[userId] = fromHex((await head(`user-${tenantId}-${userId}`)).hash);
    }
    const committeeHeads: Record<string, ChainHead> = {};
    for (const committeeId of committeesOf.get(tenantId) ?? []) {
      committeeHeads[committeeId] = await committeeHead(tenantId, committeeId);
    }
    await run(
      heartbeatCommand({
        tenantId,
        signerDeviceId: 'adm1',
        time,
        userHeads,
        committeeHeads,
        link: nextLink(await head(`tenant-${tenantId}`)),
        signer: tenants.get(tenantId)!.admin.signing,
      }),
    );
    await settled();
  };

  /** `staff` confirms `member`'s first device for `committeeId`, as `ratsfach confirm` does. */
  const confirmFirstDevice = async (
    member: WorldDevice,
    committeeId: string,
    staff: WorldDevice,
  ) => {
    const { tenantId } = member;
    await run(
      confirmDeviceCommand({
        tenantId,
        userId: member.userId,
        deviceId: member.deviceId,
        fingerprint: fingerprint(member.keys.signing.publicKey),
        tenantPosition,
        committeeId,
        signerUserId: staff.userId,
        signerDeviceId: staff.deviceId,
        signer: staff.keys.signing,
        link: nextLink(await head(`user-${tenantId}-${member.userId}`)),
      }),
    );
  };

  /**
   * Adds a member (admin-signed), co-signed by `staff` (or by the member itself when staff). A
   * member added by another staff device has its first device confirmed by that staff device
   * for the committee (keys are wrapped only for confirmed devices) unless `confirm` is false.
   */
  const addMember = async (
    member: WorldDevice,
    committeeId: string,
    role: MemberRole,
    staff: WorldDevice = member,
    confirm = staff !== member,
  ) => {
    const { tenantId } = member;
    await run(
      changeMembershipCommand({
        ...asAdmin(tenantId),
        committeeId,
        userId: member.userId,
        change: 'add',
        role,
        link: nextLink(await head(committeeStream(tenantId, committeeId))),
      }),
    );
    const before = await head(committeeStream(tenantId, committeeId));
    await run(
      coSignMembershipCommand({
        tenantId,
        committeeId,
        tenantPosition,
        signerDeviceId: staff.deviceId,
        signerUserId: staff.userId,
        signer: staff.keys.signing,
        userId: member.userId,
        membershipSequence: before.length - 1,
        membershipHash: fromHex(before.hash),
        link: nextLink(before),
      }),
    );
    if (confirm) await confirmFirstDevice(member, committeeId, staff);
  };

  const removeMember = async (member: WorldDevice, committeeId: string, role: MemberRole) => {
    await run(
      changeMembershipCommand({
        ...asAdmin(member.tenantId),
        committeeId,
        userId: member.userId,
        change: 'remove',
        role,
        link: nextLink(await head(committeeStream(member.tenantId, committeeId))),
      }),
    );
    await settled();
  };

  /** The staff device starts epoch `epoch` wrapped for `holders`; returns the epoch key. */
  const startEpoch = async (
    staff: WorldDevice,
    committeeId: string,
    epoch: number,
    holders: readonly WorldDevice[],
  ) => {
    const ref = { tenantId: staff.tenantId, committeeId, epoch };
    const epochKey = generateEpochKey();
    const h = await head(committeeStream(staff.tenantId, committeeId));
    const record = signRecord(
      'key-epoch',
      nextLink(h),
      {
        tenantId: staff.tenantId,
        committeeId,
        epoch,
        reason: epoch === 0 ? 'initial' : 'removal',
        tenantPosition,
        keyCommitment: epochKeyCommitment(ref, epochKey),
        previousKey: null,
        wrappedKeys: holders.map((d) =>
          wrapEpochKey(ref, epochKey, {
            fingerprint: fingerprint(d.keys.signing.publicKey),
            kemKey: d.keys.kem.publicKey,
          }),
        ),
      },
      staff.keys.signing,
    );
    await run(
      startKeyEpochCommand({
        tenantId: staff.tenantId,
        committeeId,
        epoch,
        signerUserId: staff.userId,
        signerDeviceId: staff.deviceId,
        record,
        recipients: holders.map((d) => ({ userId: d.userId, deviceId: d.deviceId })),
      }),
    );
    await settled();
    return epochKey;
  };

  /** Uploads one object through the upload routes (multipart parts over real HTTP). */
  const upload = async (
    device: WorldDevice,
    committeeId: string,
    kind: 'blob' | 'keyslot',
    bytes: Uint8Array,
    hash: string,
  ) => {
    const session = await device.api.call(createUpload, {
      params: { tenantId: device.tenantId },
      body: { committeeId, kind, hash, size: bytes.length },
    });
    for (let index = 0; index < session.partCount; index++) {
      const part = bytes.subarray(index * session.partSize, (index + 1) * session.partSize);
      const form = new FormData();
      form.append('part', new Blob([Buffer.from(part)]), 'part');
      const response = await fetch(
        `${baseUrl}/v1/tenants/${device.tenantId}/uploads/${session.sessionId}/parts/${index}`,
        { method: 'PUT', headers: { authorization: `Bearer ${device.token}` }, body: form },
      );
      if (response.status !== 200) throw new Error(`part ${index}: ${await response.text()}`);
    }
    return device.api.call(completeUpload, {
      params: { tenantId: device.tenantId, sessionId: session.sessionId },
    });
  };

  /**
   * Encrypts `plaintext` as version `version` of a document, uploads blob and key slot, and
   * returns the CommitVersion body (not sent) with what the reader needs to check it.
   */
  const prepareVersion = async (
    staff: WorldDevice,
    committeeId: string,
    documentId: string,
    version: number,
    parentVersion: number | null,
    epoch: number,
    epochKey: Uint8Array,
    plaintext: Uint8Array,
    options: { upload?: boolean; commandId?: string } = {},
  ) => {
    const binding = { tenantId: staff.tenantId, documentId, version, epoch };
    const contentKey = generateContentKey();
    const chunks: Uint8Array[] = [];
    for await (const chunk of encryptContent([plaintext], { contentKey, binding }))
      chunks.push(chunk);
    const blob = Buffer.concat(chunks);
    const digest = blobHash(blob);
    const keySlot = sealKeySlot({ epochKey, contentKey, binding: { ...binding, committeeId } });
    if (options.upload !== false) {
      await upload(staff, committeeId, 'blob', blob, hex(digest.hash));
      await upload(staff, committeeId, 'keyslot', keySlot, hex(keySlotHash(keySlot)));
    }
    const body = commitVersionCommand(
      {
        tenantId: staff.tenantId,
        committeeId,
        documentId,
        tenantPosition,
        committeeHead: await committeeHead(staff.tenantId, committeeId),
        signerUserId: staff.userId,
        signerDeviceId: staff.deviceId,
        signer: staff.keys.signing,
        link: nextLink(await head(`document-${staff.tenantId}-${documentId}`)),
        version,
        parentVersion,
        epoch,
        contentHash: digest.hash,
        size: blob.length,
        keySlotHash: keySlotHash(keySlot),
        encryptedMetadata: encryptMetadata({
          contentKey,
          binding,
          metadata: {
            name: `Protokoll ${version}.txt`,
            folderPath: ['Protokolle'],
            mimeType: 'text/plain',
            createdAt: 1_774_000_000_000,
            modifiedAt: 1_774_000_000_000,
          },
        }),
      },
      options.commandId === undefined ? {} : { commandId: options.commandId },
    );
    return { body, blob, keySlot, digest };
  };

  /** The staff device creates `documentId` in `committeeId` through the documents route. */
  const createDocumentAs = async (
    staff: WorldDevice,
    committeeId: string,
    documentId: string,
    epoch = 0,
  ) =>
    staff.api.call(createDocument, {
      params: { tenantId: staff.tenantId, documentId },
      body: createDocumentCommand({
        tenantId: staff.tenantId,
        documentId,
        committeeId,
        tenantPosition,
        committeeHead: await committeeHead(staff.tenantId, committeeId),
        signerUserId: staff.userId,
        signerDeviceId: staff.deviceId,
        signer: staff.keys.signing,
        epoch,
      }),
    });

  /**
   * `prepareVersion` (blob and key slot uploaded), then the staff device commits it through the
   * documents route; returns the prepared parts with the route's answer. Does not wait for the
   * projector: call `settled()` when the test reads the read model next.
   */
  const commitPlaintext = async (...args: Parameters<typeof prepareVersion>) => {
    const [staff, , documentId] = args;
    const prepared = await prepareVersion(...args);
    const committed = await staff.api.call(commitVersion, {
      params: { tenantId: staff.tenantId, documentId },
      body: prepared.body,
    });
    return { ...prepared, committed };
  };

  /** The signed records of a stream as the log holds them, in chain order. */
  const chain = async (stream: string): Promise<Uint8Array[]> => {
    const records = new Map<number, Uint8Array>();
    for await (const recorded of eventStore.readStream(stream)) {
      const data = decodeEvent(recorded).data as { record?: Uint8Array; sequence?: number };
      if (data.record instanceof Uint8Array && typeof data.sequence === 'number') {
        records.set(data.sequence, data.record);
      }
    }
    return [...records.keys()].sort((a, b) => a - b).map((k) => records.get(k) as Uint8Array);
  };

  /** The tenant root's public signing key (what a device's enrolment code pins). */
  const rootKey = (tenantId: string): Uint8Array => tenants.get(tenantId)!.root.publicKey;

  return {
    baseUrl,
    app,
    eventStore,
    readModel,
    blobStore,
    serviceState,
    commands,
    tenantPosition,
    settled,
    run,
    head,
    person,
    addDevice,
    revokeDevice,
    loginAs,
    loginAt,
    createCommittee,
    heartbeat,
    addMember,
    confirmFirstDevice,
    removeMember,
    startEpoch,
    upload,
    prepareVersion,
    createDocumentAs,
    commitPlaintext,
    chain,
    rootKey,
    committeeHead,
    asAdmin,
  };
}

/**
 * The scene most document tests start from: in tenant t1, alice (device a1) is staff and bob
 * (device b1) a reader of committee `council`; epoch 0 is wrapped for both.
 */
export async function councilWorld(
  t: Teardown,
  openBlobStore?: () => Promise<BlobStore>,
  backend?: WorldBackend,
) {
  const w = await documentWorld(t, ['t1'], openBlobStore, backend);
  const alice = await w.person('t1', 'alice', 'a1');
  const bob = await w.person('t1', 'bob', 'b1');
  await w.createCommittee('t1', 'council');
  await w.addMember(alice, 'council', 'staff');
  await w.addMember(bob, 'council', 'reader', alice);
  const epochKey = await w.startEpoch(alice, 'council', 0, [alice, bob]);
  const doc = { tenantId: 't1', documentId: 'doc1' };
  return { w, alice, bob, epochKey, doc };
}
