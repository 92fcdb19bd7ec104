import t from 'tap';
import {
  cryptoReady,
  fingerprint,
  generateDeviceKeys,
  generateSigningKeyPair,
  hash512,
  openAnyRecord,
  signRecord,
  type ChainLink,
  type OpenedRecord,
  unchained,
} from '@ratsfach/crypto';
import type { Purpose, RecordBodies } from '@ratsfach/kernel';
import { adminDevicesOf, membersOf, userDevicesOf } from './chainViews.js';

t.before(async () => {
  await cryptoReady();
});

/** A chain built record by record, each linked to the one before. */
const chainBuilder = () => {
  const records: OpenedRecord[] = [];
  const signer = generateSigningKeyPair();
  return {
    records,
    add<P extends Purpose>(purpose: P, body: RecordBodies[P]): OpenedRecord {
      const last = records[records.length - 1];
      const link: ChainLink = last
        ? { sequence: records.length, previousHash: hash512(last.bytes) }
        : unchained;
      const record = openAnyRecord(signRecord(purpose, link, body, signer));
      records.push(record);
      return record;
    },
  };
};

t.test('admin devices: certificates, renewals and revocations from the tenant chain', async (t) => {
  const chain = chainBuilder();
  const a = generateDeviceKeys();
  const b = generateDeviceKeys();
  chain.add('tenant-created', { tenantId: 'stadt', createdAt: 1 });
  const cert = (keys: typeof a, deviceId: string, notAfter: number) =>
    chain.add('admin-device-certificate', {
      tenantId: 'stadt',
      userId: 'amt',
      deviceId,
      signingKey: keys.signing.publicKey,
      kemKey: keys.kem.publicKey,
      notBefore: 1,
      notAfter,
    });
  cert(a, 'a', 100);
  cert(b, 'b', 100);
  chain.add('admin-device-revocation', {
    tenantId: 'stadt',
    deviceId: 'b',
    fingerprint: fingerprint(b.signing.publicKey),
    reason: 'lost',
  });
  chain.add('admin-device-revocation', {
    tenantId: 'stadt',
    deviceId: 'nobody',
    fingerprint: fingerprint(b.signing.publicKey),
    reason: 'x',
  });
  cert(a, 'a', 200);
  cert(b, 'b', 300);
  const devices = adminDevicesOf(chain.records);
  t.same([...devices.keys()], ['a', 'b']);
  t.equal(devices.get('a')?.notAfter, 200, 'a renewal replaces the validity');
  t.equal(devices.get('a')?.revoked, false);
  t.equal(devices.get('b')?.revoked, true, 'a revocation stays, also after a later certificate');
  t.equal(devices.get('a')?.fingerprint, fingerprint(a.signing.publicKey));
});

t.test('user devices from the user chain', async (t) => {
  const chain = chainBuilder();
  const phone = generateDeviceKeys();
  chain.add('user-created', { tenantId: 'stadt', userId: 'mueller', tenantPosition: 2 });
  chain.add('device-certificate', {
    tenantId: 'stadt',
    userId: 'mueller',
    deviceId: 'phone',
    signingKey: phone.signing.publicKey,
    kemKey: phone.kem.publicKey,
    notBefore: 10,
    notAfter: 20,
    tenantPosition: 2,
    enrolmentCodeId: null,
  });
  t.equal(userDevicesOf(chain.records).get('phone')?.revoked, false);
  chain.add('device-revocation', {
    tenantId: 'stadt',
    userId: 'mueller',
    deviceId: 'phone',
    fingerprint: fingerprint(phone.signing.publicKey),
    tenantPosition: 2,
    reason: 'lost',
  });
  chain.add('device-revocation', {
    tenantId: 'stadt',
    userId: 'mueller',
    deviceId: 'tablet',
    fingerprint: fingerprint(phone.signing.publicKey),
    tenantPosition: 2,
    reason: 'x',
  });
  const devices = userDevicesOf(chain.records);
  t.equal(devices.get('phone')?.revoked, true);
  t.notOk(devices.has('tablet'), 'a revocation of an unknown device adds nothing');
});

t.test('members: additions, co-signatures, role changes and removals', async (t) => {
  const chain = chainBuilder();
  const membership = (
    userId: string,
    change: 'add' | 'remove' | 'changeRole',
    role: 'staff' | 'reader' | 'deputy',
  ) =>
    chain.add('membership', {
      tenantId: 'stadt',
      committeeId: 'bau',
      userId,
      change,
      role,
      tenantPosition: 2,
    });
  chain.add('committee-created', { tenantId: 'stadt', committeeId: 'bau', tenantPosition: 2 });
  const founder = membership('schmidt', 'add', 'staff');
  membership('mueller', 'add', 'reader');
  chain.add('membership-cosignature', {
    tenantId: 'stadt',
    committeeId: 'bau',
    membershipSequence: founder.sequence,
    membershipHash: founder.hash,
    tenantPosition: 2,
  });
  membership('mueller', 'changeRole', 'deputy');
  membership('weber', 'changeRole', 'staff');
  membership('meier', 'add', 'reader');
  membership('meier', 'remove', 'reader');
  const members = membersOf(chain.records);
  t.same([...members.keys()].sort(), ['mueller', 'schmidt', 'weber']);
  t.equal(members.get('schmidt')?.cosigned, true);
  t.equal(members.get('schmidt')?.membershipSequence, founder.sequence);
  t.equal(members.get('mueller')?.role, 'deputy');
  t.equal(members.get('mueller')?.cosigned, false);
  t.equal(
    members.get('weber')?.role,
    'staff',
    'a role change of an unknown member counts as an addition',
  );
});
