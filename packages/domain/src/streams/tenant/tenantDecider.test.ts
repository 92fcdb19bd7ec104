import {
  ConflictError,
  ForbiddenError,
  IntegrityError,
  NotFoundError,
  ValidationError,
} from '@ratsfach/kernel';
import t from 'tap';
import { DomainErrorCode } from '../../domainErrorCode.js';
import {
  Scenario,
  fakeHash,
  fakeRecordVerifier,
  fingerprintOf,
  given,
  signingKeyOf,
} from '../../testing/index.js';
import { tenantDecider } from './tenantDecider.js';
import type { TenantEvent } from './tenantStream.js';

const meta = (s: Scenario, commandId: string, occurredAt = s.now) => ({ commandId, occurredAt });
const admin = () => {
  const s = new Scenario();
  s.exec(s.createTenant());
  s.exec(s.certifyAdminDevice('adm1'));
  s.exec(s.certifyAdminDevice('adm2'));
  return s;
};

t.test('CreateTenant', async (t) => {
  t.test('creates a tenant whose root is the key that signed its genesis record', async (t) => {
    const s = new Scenario();
    const command = s.createTenant();
    s.gwt(command).then(t, [
      {
        type: 'TenantCreated',
        data: {
          tenantId: 't1',
          rootFingerprint: fingerprintOf('root'),
          createdAt: 1_767_000_000,
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 0,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
  });
  t.test('refuses a second creation', async (t) => {
    const s = new Scenario();
    s.exec(s.createTenant());
    s.gwt(s.createTenant({ sequence: 0, previousHash: new Uint8Array(64) })).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.tenantExists,
    );
  });
  t.test('refuses a genesis record for another tenant', async (t) => {
    const s = new Scenario();
    s.gwt(s.createTenant({ fields: { tenantId: 't2' } })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.recordMismatch,
    );
  });
  t.test('refuses a record signed for another purpose', async (t) => {
    const s = new Scenario();
    s.verifier = fakeRecordVerifier({ reportLabel: 'ratsfach/v1/login-proof' });
    s.gwt(s.createTenant()).thenRefuses(t, IntegrityError, DomainErrorCode.recordLabelMismatch);
  });
  t.test("passes on the verifier's refusal of a forged signature", async (t) => {
    const s = new Scenario();
    s.gwt(s.createTenant({ signatureValid: false })).thenRefuses(
      t,
      IntegrityError,
      'RATSFACH_CRYPTO_SIGNATURE_INVALID',
    );
  });
  t.test('refuses a record without the fields its purpose needs', async (t) => {
    const s = new Scenario();
    s.gwt(s.createTenant({ fields: { createdAt: 'yesterday' } })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.recordFieldsInvalid,
    );
  });
  t.test('refuses a genesis record that does not start the chain', async (t) => {
    const s = new Scenario();
    s.gwt(s.createTenant({ sequence: 3 })).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.chainStale,
    );
  });
  t.test('refuses a tenant id of the wrong shape', async (t) => {
    const s = new Scenario();
    const command = s.createTenant();
    const bad = { ...command, data: { ...command.data, tenantId: 'T-1' } };
    given(tenantDecider, [])
      .when(bad, { verifier: s.verifier })
      .thenRefuses(t, ValidationError, DomainErrorCode.commandMalformed);
  });
  t.test('refuses metadata without a valid decision time', async (t) => {
    const s = new Scenario();
    s.gwt(s.createTenant({ now: 'yesterday' })).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.metadataInvalid,
    );
  });
  t.test('refuses metadata without a command id', async (t) => {
    const s = new Scenario();
    const command = s.createTenant();
    const bad = { ...command, metadata: { ...command.metadata, commandId: '' } };
    given(tenantDecider, [])
      .when(bad, { verifier: s.verifier })
      .thenRefuses(t, ValidationError, DomainErrorCode.metadataInvalid);
  });
  t.test('refuses an empty record', async (t) => {
    const s = new Scenario();
    const command = s.createTenant();
    const bad = { ...command, data: { ...command.data, record: new Uint8Array(0) } };
    s.gwt(bad).thenRefuses(t, ValidationError, DomainErrorCode.commandMalformed);
  });
});

t.test('CertifyAdminDevice', async (t) => {
  t.test('certifies an admin device by the root, fingerprinting its key', async (t) => {
    const s = new Scenario();
    s.exec(s.createTenant());
    const command = s.certifyAdminDevice('adm1');
    s.gwt(command).then(t, [
      {
        type: 'AdminDeviceCertified',
        data: {
          deviceId: 'adm1',
          userId: 'admin',
          fingerprint: fingerprintOf('adm1'),
          notBefore: 1_767_000_000,
          notAfter: 1_800_000_000,
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 1,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
    s.exec(command);
    const tenant = s.tenant();
    t.equal(
      tenant.status === 'active' && tenant.adminDevices.adm1?.fingerprint,
      fingerprintOf('adm1'),
      'the state knows the device',
    );
  });
  t.test('refuses before the tenant exists', async (t) => {
    const s = new Scenario();
    s.gwt(s.certifyAdminDevice('adm1')).thenRefuses(
      t,
      NotFoundError,
      DomainErrorCode.tenantUnknown,
    );
  });
  t.test("refuses a command naming another tenant than the stream's", async (t) => {
    // The record is signed by the root for t2, so only the stream's own tenant id can refuse it.
    const s = admin();
    const command = s.certifyAdminDevice('adm3', { fields: { tenantId: 't2' } });
    const bad = { ...command, data: { ...command.data, tenantId: 't2' } };
    // Decided against t1's stream: the scenario would route the command to t2's by its tenant id.
    given(tenantDecider, s.events(s.tenantStream()) as TenantEvent[])
      .when(bad, { verifier: s.verifier })
      .thenRefuses(t, ValidationError, DomainErrorCode.commandMalformed);
  });
  t.test('refuses a certificate not signed by the root', async (t) => {
    const s = admin();
    s.gwt(s.certifyAdminDevice('adm3', { fingerprint: fingerprintOf('adm1') })).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotRoot,
    );
  });
  t.test('refuses a device certified twice', async (t) => {
    const s = admin();
    s.gwt(s.certifyAdminDevice('adm1')).thenRefuses(t, ConflictError, DomainErrorCode.deviceExists);
  });
  t.test('refuses a new device with the key of another', async (t) => {
    const s = admin();
    s.gwt(s.certifyAdminDevice('adm3', {}, { key: signingKeyOf('adm1') })).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.deviceExists,
    );
  });
  t.test('refuses a record written against an older chain head', async (t) => {
    const s = new Scenario();
    s.exec(s.createTenant());
    const stale = s.certifyAdminDevice('adm2');
    s.exec(s.certifyAdminDevice('adm1'));
    s.gwt(stale).thenRefuses(t, ConflictError, DomainErrorCode.chainStale);
  });
  t.test('refuses a certificate for another device than the command names', async (t) => {
    const s = admin();
    s.gwt(s.certifyAdminDevice('adm3', { fields: { deviceId: 'adm4' } })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.recordMismatch,
    );
  });
});

t.test('RevokeAdminDevice', async (t) => {
  t.test('revokes an admin device by the root', async (t) => {
    const s = admin();
    const command = s.revokeAdminDevice('adm1');
    s.gwt(command).then(t, [
      {
        type: 'AdminDeviceRevoked',
        data: {
          deviceId: 'adm1',
          fingerprint: fingerprintOf('adm1'),
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 3,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
    s.exec(command);
    const tenant = s.tenant();
    t.equal(tenant.status === 'active' && tenant.adminDevices.adm1?.revoked, true);
  });
  t.test('refuses a revocation signed by an admin device', async (t) => {
    const s = admin();
    s.gwt(s.revokeAdminDevice('adm1', { fingerprint: fingerprintOf('adm2') })).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotRoot,
    );
  });
  t.test('refuses an unknown device', async (t) => {
    const s = admin();
    s.gwt(s.revokeAdminDevice('adm9')).thenRefuses(t, NotFoundError, DomainErrorCode.deviceUnknown);
  });
  t.test('refuses a revocation naming another key than the device has', async (t) => {
    const s = admin();
    s.gwt(
      s.revokeAdminDevice('adm1', { fields: { fingerprint: fingerprintOf('adm2') } }),
    ).thenRefuses(t, IntegrityError, DomainErrorCode.recordMismatch);
  });
  t.test('refuses a second revocation', async (t) => {
    const s = admin();
    s.exec(s.revokeAdminDevice('adm1'));
    s.gwt(s.revokeAdminDevice('adm1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.deviceAlreadyRevoked,
    );
  });
});

t.test('RecordHeartbeat', async (t) => {
  const heads = { alice: fakeHash(new Uint8Array([1])) };
  t.test('records a heartbeat of an admin device and remembers its signed time', async (t) => {
    const s = admin();
    const command = s.recordHeartbeat('adm1', heads, {}, 1_768_100_000);
    s.gwt(command).then(t, [
      {
        type: 'Heartbeat',
        data: {
          signerDeviceId: 'adm1',
          time: 1_768_100_000,
          userHeads: heads,
          committeeHeads: {},
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 3,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
    s.exec(command);
    const tenant = s.tenant();
    t.equal(tenant.status === 'active' && tenant.lastHeartbeatTime, 1_768_100_000);
  });
  t.test('carries the committee heads the heartbeat names', async (t) => {
    const s = admin();
    const named = { council: { length: 4, hash: fakeHash(new Uint8Array([4])) } };
    const [event] = s.exec(s.recordHeartbeat('adm1', heads, {}, 1_768_100_000, named));
    t.same(event?.type === 'Heartbeat' ? event.data.committeeHeads : undefined, named);
  });
  t.test("refuses a heartbeat dated outside its signer's validity", async (t) => {
    // adm1 is valid from 1_767_000_000 to 1_800_000_000 (an admin clock far ahead, or behind).
    const s = admin();
    for (const time of [1_800_000_001, 1_766_999_999]) {
      s.gwt(s.recordHeartbeat('adm1', heads, {}, time)).thenRefuses(
        t,
        ForbiddenError,
        DomainErrorCode.certificateNotValid,
      );
    }
    t.ok(s.exec(s.recordHeartbeat('adm1', heads, {}, 1_800_000_000)), 'its last second counts');
  });
  t.test('refuses a heartbeat of a device that is no admin device', async (t) => {
    const s = admin();
    s.gwt(s.recordHeartbeat('a1', heads)).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotAdmin,
    );
  });
  t.test('refuses a heartbeat of a revoked admin device', async (t) => {
    const s = admin();
    s.exec(s.revokeAdminDevice('adm2'));
    s.gwt(s.recordHeartbeat('adm2', heads)).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.deviceRevoked,
    );
  });
  t.test('refuses a heartbeat signed by another admin device than it names', async (t) => {
    const s = admin();
    s.gwt(s.recordHeartbeat('adm1', heads, { fingerprint: fingerprintOf('adm2') })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.signerMismatch,
    );
  });
  t.test('refuses user heads that are not hashes', async (t) => {
    const s = admin();
    s.gwt(s.recordHeartbeat('adm1', { alice: new Uint8Array(3) })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.recordFieldsInvalid,
    );
  });
});

t.test('RecordCheckpoint', async (t) => {
  t.test('records a countersigned checkpoint', async (t) => {
    const s = admin();
    const command = s.recordCheckpoint('adm1', 10);
    s.gwt(command).then(t, [
      {
        type: 'Checkpoint',
        data: {
          signerDeviceId: 'adm1',
          treeSize: 10,
          rootHash: fakeHash(new TextEncoder().encode('tree 10')),
          serviceSignature: new Uint8Array(64).fill(7),
          record: command.data.record,
          recordHash: fakeHash(command.data.record),
          sequence: 3,
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
  });
  t.test('refuses a checkpoint that does not grow the tree', async (t) => {
    const s = admin();
    s.exec(s.recordCheckpoint('adm1', 10));
    s.gwt(s.recordCheckpoint('adm1', 10)).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.checkpointNotNewer,
    );
  });
  t.test('refuses a countersignature by a non-admin key', async (t) => {
    const s = admin();
    s.gwt(s.recordCheckpoint('nobody', 5)).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotAdmin,
    );
  });
  t.test('refuses a countersignature naming another signer than the command', async (t) => {
    const s = admin();
    s.gwt(s.recordCheckpoint('adm1', 5, { fields: { signerDeviceId: 'adm2' } })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.recordMismatch,
    );
  });
  t.test('refuses an empty tree', async (t) => {
    const s = admin();
    s.gwt(s.recordCheckpoint('adm1', 0)).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.checkpointNotNewer,
    );
  });
});

t.test('evolve ignores events before the tenant exists', async (t) => {
  const event: TenantEvent = {
    type: 'Heartbeat',
    data: {
      signerDeviceId: 'adm1',
      time: 1,
      userHeads: {},
      committeeHeads: {},
      record: new Uint8Array([1]),
      recordHash: new Uint8Array(64),
      sequence: 0,
    },
    metadata: { commandId: 'c', occurredAt: '2026-01-01T00:00:00Z' },
  };
  t.same(tenantDecider.evolve(tenantDecider.initialState(), event), { status: 'absent' });
});

t.test(
  'refuses a heartbeat of an admin device whose certificate expired by the newest signed time',
  async (t) => {
    const s = admin();
    s.exec(s.certifyAdminDevice('adm3', {}, { notAfter: 1_767_500_000 }));
    s.exec(s.recordHeartbeat('adm1', {}, {}, 1_768_000_000));
    s.gwt(s.recordHeartbeat('adm3', {})).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.certificateNotValid,
    );
    const tenant = s.tenant();
    t.same(
      tenant.status === 'active' && tenant.times,
      [1_767_000_000, 1_767_000_000, 1_767_000_000, 1_767_000_000, 1_768_000_000],
      'the time at each position',
    );
  },
);
