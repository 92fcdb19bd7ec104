import t from 'tap';
import {
  ConflictError,
  ForbiddenError,
  IntegrityError,
  NotFoundError,
  ValidationError,
} from './errors.js';
import { DomainErrorCode } from './domainErrorCode.js';
import { Scenario, fakeHash } from './testing/index.js';
import { tenantDecider } from './tenantDecider.js';
import { given } from './testing/givenWhenThen.js';
import { RecordPurpose } from './signedRecord.js';
import type { TenantEvent } from './tenantStream.js';

const hashOf = (record: Uint8Array) => fakeHash(record);

t.test('CreateTenant', async (t) => {
  t.test('creates a tenant from a root-signed genesis record', async (t) => {
    const s = new Scenario();
    const command = s.createTenant();
    s.gwt(command).then(t, [
      {
        type: 'TenantCreated',
        data: {
          tenantId: 't1',
          rootFingerprint: 'fp_root',
          record: command.data.record,
          recordHash: hashOf(command.data.record),
          sequence: 0,
        },
        metadata: { commandId: command.metadata.commandId, occurredAt: s.now },
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
  t.test('refuses a genesis record signed by another key than the named root', async (t) => {
    const s = new Scenario();
    s.gwt(s.createTenant({ fingerprint: 'fp_other' })).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotRoot,
    );
  });
  t.test('refuses a record whose fields differ from the command', async (t) => {
    const s = new Scenario();
    s.gwt(s.createTenant({ fields: { rootFingerprint: 'fp_evil' } })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.recordMismatch,
    );
  });
  t.test('refuses a record signed for another purpose', async (t) => {
    const s = new Scenario();
    s.verifier = (await import('./testing/index.js')).fakeRecordVerifier({
      reportLabel: 'ratsfach/v1/login',
    });
    s.gwt(s.createTenant()).thenRefuses(t, IntegrityError, DomainErrorCode.recordLabelMismatch);
  });
  t.test('passes on the verifier refusing a forged signature', async (t) => {
    const s = new Scenario();
    s.gwt(s.createTenant({ signatureValid: false })).thenRefuses(
      t,
      IntegrityError,
      'RATSFACH_CRYPTO_SIGNATURE_INVALID',
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
});

t.test('CertifyAdminDevice', async (t) => {
  t.test('certifies an admin device by the root', async (t) => {
    const s = new Scenario();
    s.exec(s.createTenant());
    const command = s.certifyAdminDevice('adm1');
    s.gwt(command).then(t, [
      {
        type: 'AdminDeviceCertified',
        data: {
          deviceId: 'adm1',
          fingerprint: 'fp_adm1',
          validUntil: '2027-01-01T00:00:00.000Z',
          record: command.data.record,
          recordHash: hashOf(command.data.record),
          sequence: 1,
        },
        metadata: { commandId: command.metadata.commandId, occurredAt: s.now },
      },
    ]);
    s.exec(command);
    const tenant = s.tenant();
    t.equal(
      tenant.status === 'active' && tenant.adminDevices.adm1?.fingerprint,
      'fp_adm1',
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
  t.test('refuses a certificate not signed by the root', async (t) => {
    const s = new Scenario();
    s.exec(s.createTenant());
    s.exec(s.certifyAdminDevice('adm1'));
    s.gwt(s.certifyAdminDevice('adm2', { fingerprint: 'fp_adm1' })).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotRoot,
    );
  });
  t.test('refuses a device certified twice', async (t) => {
    const s = new Scenario();
    s.exec(s.createTenant());
    s.exec(s.certifyAdminDevice('adm1'));
    s.gwt(s.certifyAdminDevice('adm1')).thenRefuses(t, ConflictError, DomainErrorCode.deviceExists);
  });
  t.test('refuses a record written against an older chain head', async (t) => {
    const s = new Scenario();
    s.exec(s.createTenant());
    const stale = s.certifyAdminDevice('adm2');
    s.exec(s.certifyAdminDevice('adm1'));
    s.gwt(stale).thenRefuses(t, ConflictError, DomainErrorCode.chainStale);
  });
  t.test('refuses a validity that is not a time', async (t) => {
    const s = new Scenario();
    s.exec(s.createTenant());
    s.gwt(s.certifyAdminDevice('adm1', {}, 'next year')).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.commandMalformed,
    );
  });
});

t.test('RevokeAdminDevice', async (t) => {
  const setup = () => {
    const s = new Scenario();
    s.exec(s.createTenant());
    s.exec(s.certifyAdminDevice('adm1'));
    return s;
  };
  t.test('revokes an admin device by the root', async (t) => {
    const s = setup();
    const command = s.revokeAdminDevice('adm1');
    s.gwt(command).then(t, [
      {
        type: 'AdminDeviceRevoked',
        data: {
          deviceId: 'adm1',
          record: command.data.record,
          recordHash: hashOf(command.data.record),
          sequence: 2,
        },
        metadata: { commandId: command.metadata.commandId, occurredAt: s.now },
      },
    ]);
    s.exec(command);
    const tenant = s.tenant();
    t.equal(tenant.status === 'active' && tenant.adminDevices.adm1?.revoked, true);
  });
  t.test('refuses a revocation signed by an admin device', async (t) => {
    const s = setup();
    s.gwt(s.revokeAdminDevice('adm1', { fingerprint: 'fp_adm1' })).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotRoot,
    );
  });
  t.test('refuses an unknown device', async (t) => {
    const s = setup();
    s.gwt(s.revokeAdminDevice('adm9')).thenRefuses(t, NotFoundError, DomainErrorCode.deviceUnknown);
  });
  t.test('refuses a second revocation', async (t) => {
    const s = setup();
    s.exec(s.revokeAdminDevice('adm1'));
    s.gwt(s.revokeAdminDevice('adm1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.deviceAlreadyRevoked,
    );
  });
});

t.test('RecordHeartbeat', async (t) => {
  const setup = () => {
    const s = new Scenario();
    s.exec(s.createTenant());
    s.exec(s.certifyAdminDevice('adm1'));
    s.exec(s.certifyAdminDevice('adm2'));
    return s;
  };
  const heads = { alice: fakeHash(new Uint8Array([1])) };
  t.test('records a heartbeat of an admin device and remembers its time', async (t) => {
    const s = setup();
    const command = s.recordHeartbeat('adm1', heads, { now: '2026-01-11T00:00:00.000Z' });
    s.gwt(command).then(t, [
      {
        type: 'Heartbeat',
        data: {
          signerDeviceId: 'adm1',
          userHeads: heads,
          record: command.data.record,
          recordHash: hashOf(command.data.record),
          sequence: 3,
        },
        metadata: { commandId: command.metadata.commandId, occurredAt: '2026-01-11T00:00:00.000Z' },
      },
    ]);
    s.exec(command);
    const tenant = s.tenant();
    t.equal(tenant.status === 'active' && tenant.lastHeartbeatAt, '2026-01-11T00:00:00.000Z');
  });
  t.test('refuses a heartbeat of a device that is no admin device', async (t) => {
    const s = setup();
    s.gwt(s.recordHeartbeat('a1', heads)).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotAdmin,
    );
  });
  t.test('refuses a heartbeat of a revoked admin device', async (t) => {
    const s = setup();
    s.exec(s.revokeAdminDevice('adm2'));
    s.gwt(s.recordHeartbeat('adm2', heads)).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.deviceRevoked,
    );
  });
  t.test('refuses a heartbeat signed by another admin device than it names', async (t) => {
    const s = setup();
    s.gwt(s.recordHeartbeat('adm1', heads, { fingerprint: 'fp_adm2' })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.signerMismatch,
    );
  });
  t.test('refuses user heads that are not hashes', async (t) => {
    const s = setup();
    s.gwt(s.recordHeartbeat('adm1', { alice: new Uint8Array(3) })).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.commandMalformed,
    );
  });
});

t.test('RecordCheckpoint', async (t) => {
  const setup = () => {
    const s = new Scenario();
    s.exec(s.createTenant());
    s.exec(s.certifyAdminDevice('adm1'));
    return s;
  };
  t.test('records a countersigned checkpoint', async (t) => {
    const s = setup();
    const command = s.recordCheckpoint('adm1', 10n);
    const events = s.gwt(command).then(t, [
      {
        type: 'Checkpoint',
        data: {
          treeSize: 10n,
          rootHash: command.data.rootHash,
          serviceSignature: command.data.serviceSignature,
          signerDeviceId: 'adm1',
          record: command.data.record,
          recordHash: hashOf(command.data.record),
          sequence: 2,
        },
        metadata: { commandId: command.metadata.commandId, occurredAt: s.now },
      },
    ]);
    t.equal(events.length, 1);
  });
  t.test('refuses a checkpoint that does not grow the tree', async (t) => {
    const s = setup();
    s.exec(s.recordCheckpoint('adm1', 10n));
    s.gwt(s.recordCheckpoint('adm1', 10n)).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.checkpointNotNewer,
    );
  });
  t.test('refuses a countersignature by a non-admin key', async (t) => {
    const s = setup();
    s.gwt(s.recordCheckpoint('nobody', 5n)).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.signerNotAdmin,
    );
  });
  t.test('refuses a tree head the admin did not sign', async (t) => {
    const s = setup();
    s.gwt(s.recordCheckpoint('adm1', 5n, { fields: { treeSize: 6n } })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.recordMismatch,
    );
  });
  t.test('refuses an empty tree', async (t) => {
    const s = setup();
    s.gwt(s.recordCheckpoint('adm1', 0n)).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.commandMalformed,
    );
  });
});

t.test('evolve ignores events before the tenant exists', async (t) => {
  const event: TenantEvent = {
    type: 'Heartbeat',
    data: {
      signerDeviceId: 'adm1',
      userHeads: {},
      record: new Uint8Array([1]),
      recordHash: new Uint8Array(64),
      sequence: 0,
    },
    metadata: { commandId: 'c', occurredAt: '2026-01-01T00:00:00Z' },
  };
  t.same(tenantDecider.evolve(tenantDecider.initialState(), event), { status: 'absent' });
  t.equal(RecordPurpose.heartbeat, 'heartbeat');
});
