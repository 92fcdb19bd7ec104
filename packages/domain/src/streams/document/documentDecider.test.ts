import {
  ConflictError,
  ForbiddenError,
  IntegrityError,
  NotFoundError,
  ValidationError,
} from '@ratsfach/kernel';
import t from 'tap';
import { DomainErrorCode } from '../../domainErrorCode.js';
import { Scenario, fakeHash, fingerprintOf, given } from '../../testing/index.js';
import { documentDecider } from './documentDecider.js';

const meta = (s: Scenario, commandId: string) => ({ commandId, occurredAt: s.now });
/** The fields of an event that carries a record alice's device a1 signed at `sequence`. */
const signedByA1 = (record: Uint8Array, sequence: number) => ({
  signerUserId: 'alice',
  signerDeviceId: 'a1',
  record,
  recordHash: fakeHash(record),
  sequence,
});
const status = (s: Scenario) => s.document('doc1').status;
const committeeChain = (s: Scenario) => {
  const committee = s.committee('council');
  if (committee.status !== 'active') throw new Error('no committee');
  return committee.chain;
};

t.test('CreateDocument', async (t) => {
  t.test('staff create a document in their committee', async (t) => {
    const s = new Scenario().standard();
    const command = s.createDocument('doc1', 'council', 'alice', 'a1');
    const chain = committeeChain(s);
    s.gwt(command).then(t, [
      {
        type: 'DocumentCreated',
        data: {
          tenantId: 't1',
          documentId: 'doc1',
          committeeId: 'council',
          epoch: 0,
          committeeSequence: chain.length,
          committeeHead: chain.head,
          ...signedByA1(command.data.record, 0),
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
  });
  t.test('refuses a document created twice', async (t) => {
    const s = new Scenario().withDocument();
    s.gwt(
      s.createDocument('doc1', 'council', 'alice', 'a1', {
        sequence: 0,
        previousHash: new Uint8Array(64),
      }),
    ).thenRefuses(t, ConflictError, DomainErrorCode.documentExists);
  });
  t.test('refuses a document by a reader', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.createDocument('doc1', 'council', 'bob', 'b1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.roleLacksRight,
    );
  });
  t.test('refuses a document by a non-member', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.createDocument('doc1', 'council', 'carol', 'cr1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.notAMember,
    );
  });
  t.test('refuses a document by a staff member whose addition is not co-signed', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.changeMembership('council', 'add', 'carol', 'staff'));
    s.gwt(s.createDocument('doc1', 'council', 'carol', 'cr1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.membershipPending,
    );
  });
  t.test('refuses a document before the committee has a key epoch', async (t) => {
    const s = new Scenario();
    s.exec(s.createTenant());
    s.exec(s.certifyAdminDevice('adm1'));
    s.exec(s.createUser('alice'));
    s.exec(s.certifyDevice('alice', 'a1'));
    s.exec(s.createCommittee('council'));
    s.exec(s.changeMembership('council', 'add', 'alice', 'staff'));
    s.exec(s.coSignMembership('council', 'alice', 'alice', 'a1'));
    s.gwt(s.createDocument('doc1', 'council', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.epochNotStarted,
    );
  });
  t.test('refuses a document in a committee that does not exist', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.createDocument('doc1', 'nowhere', 'alice', 'a1')).thenRefuses(
      t,
      NotFoundError,
      DomainErrorCode.committeeUnknown,
    );
  });
  t.test('refuses a decision whose context holds another committee', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.createCommittee('finance'));
    const command = s.createDocument('doc1', 'council', 'alice', 'a1');
    given(documentDecider, [])
      .when(command, {
        verifier: s.verifier,
        committee: s.committee('finance'),
        users: { alice: s.user('alice') },
      })
      .thenRefuses(t, ValidationError, DomainErrorCode.contextMismatch);
  });
  t.test('refuses without the committee in its context', async (t) => {
    const s = new Scenario().standard();
    given(documentDecider, [])
      .when(s.createDocument('doc1', 'council', 'alice', 'a1'), { verifier: s.verifier })
      .thenRefuses(t, ValidationError, DomainErrorCode.contextMissing);
  });
  t.test('refuses a record for another committee than the command names', async (t) => {
    const s = new Scenario().standard();
    s.gwt(
      s.createDocument('doc1', 'council', 'alice', 'a1', { fields: { committeeId: 'finance' } }),
    ).thenRefuses(t, IntegrityError, DomainErrorCode.recordMismatch);
  });
});

t.test('CommitVersion', async (t) => {
  t.test('staff commit the first version on the current epoch and committee state', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.createDocument('doc1', 'council', 'alice', 'a1'));
    const command = s.commitVersion('doc1', 'alice', 'a1');
    const chain = committeeChain(s);
    s.gwt(command).then(t, [
      {
        type: 'VersionCommitted',
        data: {
          version: 1,
          parentVersion: null,
          epoch: 0,
          committeeSequence: chain.length,
          committeeHead: chain.head,
          contentHash: fakeHash(new TextEncoder().encode('doc1 1')),
          size: 1000,
          keySlotHash: fakeHash(new TextEncoder().encode('slot doc1 1')),
          ...signedByA1(command.data.record, 1),
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
  });
  t.test('a second version builds on the head', async (t) => {
    const s = new Scenario().withDocument();
    const events = s.exec(s.commitVersion('doc1', 'alice', 'a1'));
    t.equal(events[0]?.type === 'VersionCommitted' && events[0].data.parentVersion, 1);
    const document = s.document('doc1');
    t.equal(document.status === 'active' && document.headVersion, 2);
  });
  t.test('refuses a version whose parent is not the head', async (t) => {
    const s = new Scenario().withDocument();
    s.gwt(s.commitVersion('doc1', 'alice', 'a1', { fields: { parentVersion: null } })).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.parentNotHead,
    );
  });
  t.test('refuses a version number that skips', async (t) => {
    const s = new Scenario().withDocument();
    s.gwt(s.commitVersion('doc1', 'alice', 'a1', { fields: { version: 5 } })).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.versionNotNext,
    );
  });
  t.test('refuses a version that names an old epoch', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.startKeyEpoch('council', 1, [{ userId: 'alice', deviceId: 'a1' }], 'alice', 'a1'));
    s.gwt(s.commitVersion('doc1', 'alice', 'a1', { fields: { epoch: 0 } })).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.epochNotCurrent,
    );
  });
  t.test('refuses a version written against an older committee state', async (t) => {
    const s = new Scenario().withDocument();
    const stale = s.commitVersion('doc1', 'alice', 'a1');
    s.exec(s.setRetention('council', 30));
    s.gwt(stale).thenRefuses(t, ConflictError, DomainErrorCode.committeeStateStale);
  });
  t.test('refuses any version after a member left until a new epoch starts', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.changeMembership('council', 'remove', 'bob', 'reader'));
    s.gwt(s.commitVersion('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.epochRotationRequired,
    );
    s.exec(s.startKeyEpoch('council', 1, [{ userId: 'alice', deviceId: 'a1' }], 'alice', 'a1'));
    t.equal(
      s.exec(s.commitVersion('doc1', 'alice', 'a1'))[0]?.type,
      'VersionCommitted',
      'writing resumes under the new epoch',
    );
  });
  t.test('refuses a version by a removed member', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.changeMembership('council', 'remove', 'alice', 'staff'));
    s.gwt(s.commitVersion('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.notAMember,
    );
  });
  t.test('refuses a version from a revoked device', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.revokeDevice('alice', 'a1'));
    s.gwt(s.commitVersion('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.deviceRevoked,
    );
  });
  t.test('refuses a version by a reader', async (t) => {
    const s = new Scenario().withDocument();
    s.gwt(s.commitVersion('doc1', 'bob', 'b1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.roleLacksRight,
    );
  });
  t.test('refuses a version signed by a key other than the named device', async (t) => {
    const s = new Scenario().withDocument();
    s.gwt(
      s.commitVersion('doc1', 'alice', 'a1', { fingerprint: fingerprintOf('root') }),
    ).thenRefuses(t, IntegrityError, DomainErrorCode.signerMismatch);
  });
  t.test('refuses a version whose signed author is another device', async (t) => {
    const s = new Scenario().withDocument();
    s.gwt(s.commitVersion('doc1', 'alice', 'a1', { fields: { authorDeviceId: 'b1' } })).thenRefuses(
      t,
      IntegrityError,
      DomainErrorCode.recordMismatch,
    );
  });
  t.test('refuses a version record without a content hash', async (t) => {
    const s = new Scenario().withDocument();
    s.gwt(
      s.commitVersion('doc1', 'alice', 'a1', { fields: { contentHash: new Uint8Array(32) } }),
    ).thenRefuses(t, IntegrityError, DomainErrorCode.recordFieldsInvalid);
  });
  t.test('refuses a version record on a stale document chain', async (t) => {
    const s = new Scenario().withDocument();
    s.gwt(s.commitVersion('doc1', 'alice', 'a1', { sequence: 1 })).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.chainStale,
    );
  });
  t.test('refuses a version of a deleted document until it is restored', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.deleteDocument('doc1', 'alice', 'a1'));
    s.gwt(s.commitVersion('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.documentDeleted,
    );
    s.exec(s.restoreDocument('doc1', 'alice', 'a1'));
    t.equal(
      s.exec(s.commitVersion('doc1', 'alice', 'a1'))[0]?.type,
      'VersionCommitted',
      'a restored document takes versions',
    );
  });
  t.test('refuses a version of an erased document', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.eraseDocument('doc1', 'alice', 'a1'));
    s.gwt(s.commitVersion('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.documentErased,
    );
  });
  t.test('refuses a version of a document that does not exist', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.commitVersion('doc1', 'alice', 'a1')).thenRefuses(
      t,
      NotFoundError,
      DomainErrorCode.documentUnknown,
    );
  });
  t.test('refuses a record over the size limit', async (t) => {
    const s = new Scenario().withDocument();
    const command = s.commitVersion('doc1', 'alice', 'a1');
    const bad = { ...command, data: { ...command.data, record: new Uint8Array(64 * 1024 + 1) } };
    s.gwt(bad).thenRefuses(t, ValidationError, DomainErrorCode.commandMalformed);
  });
});

t.test('MoveDocument', async (t) => {
  t.test('staff move a document', async (t) => {
    const s = new Scenario().withDocument();
    const command = s.moveDocument('doc1', 'alice', 'a1');
    s.gwt(command).then(t, [
      {
        type: 'DocumentMoved',
        data: {
          epoch: 0,
          ...signedByA1(command.data.record, 2),
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
  });
  t.test('refuses a move by a reader', async (t) => {
    const s = new Scenario().withDocument();
    s.gwt(s.moveDocument('doc1', 'bob', 'b1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.roleLacksRight,
    );
  });
  t.test('refuses a move whose metadata names a version other than the head', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.commitVersion('doc1', 'alice', 'a1'));
    s.gwt(s.moveDocument('doc1', 'alice', 'a1', { fields: { version: 1 } })).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.moveNotHead,
    );
    s.gwt(s.moveDocument('doc1', 'alice', 'a1', { fields: { version: 3 } })).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.moveNotHead,
    );
  });
  t.test('refuses a move before the first version (no content key to encrypt under)', async (t) => {
    const s = new Scenario().standard();
    s.exec(s.createDocument('doc1', 'council', 'alice', 'a1'));
    s.gwt(s.moveDocument('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.moveNotHead,
    );
  });
  t.test('refuses to move a deleted document', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.deleteDocument('doc1', 'alice', 'a1'));
    s.gwt(s.moveDocument('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.documentDeleted,
    );
  });
  t.test('refuses a record signed for deletion as a move', async (t) => {
    const s = new Scenario().withDocument();
    s.gwt(s.moveDocument('doc1', 'alice', 'a1', { purpose: 'document-deleted' })).thenRefuses(
      t,
      IntegrityError,
      'RATSFACH_CRYPTO_RECORD_PURPOSE',
    );
  });
});

t.test('DeleteDocument', async (t) => {
  t.test('staff delete a document', async (t) => {
    const s = new Scenario().withDocument();
    const command = s.deleteDocument('doc1', 'alice', 'a1');
    s.gwt(command).then(t, [
      {
        type: 'DocumentDeleted',
        data: {
          ...signedByA1(command.data.record, 2),
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
    s.exec(command);
    t.equal(status(s), 'deleted');
  });
  t.test('refuses a deletion under a legal hold on the committee', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.placeLegalHold('council'));
    s.gwt(s.deleteDocument('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.legalHoldActive,
    );
  });
  t.test('refuses a deletion under a legal hold on the document', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.placeLegalHold('council', {}, 'doc1'));
    s.gwt(s.deleteDocument('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.legalHoldActive,
    );
  });
  t.test('a hold on another document does not block the deletion', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.placeLegalHold('council', {}, 'doc2'));
    t.equal(s.exec(s.deleteDocument('doc1', 'alice', 'a1'))[0]?.type, 'DocumentDeleted');
  });
  t.test('refuses a second deletion', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.deleteDocument('doc1', 'alice', 'a1'));
    s.gwt(s.deleteDocument('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.documentDeleted,
    );
  });
  t.test('refuses a deletion by a revoked device', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.revokeDevice('alice', 'a1'));
    s.gwt(s.deleteDocument('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.deviceRevoked,
    );
  });
});

t.test('RestoreDocument', async (t) => {
  t.test('staff restore a deleted document', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.deleteDocument('doc1', 'alice', 'a1'));
    const command = s.restoreDocument('doc1', 'alice', 'a1');
    s.gwt(command).then(t, [
      {
        type: 'DocumentRestored',
        data: {
          ...signedByA1(command.data.record, 3),
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
    s.exec(command);
    t.equal(status(s), 'active');
  });
  t.test('refuses to restore a document that is not deleted', async (t) => {
    const s = new Scenario().withDocument();
    s.gwt(s.restoreDocument('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.documentNotDeleted,
    );
  });
  t.test('refuses to restore an erased document', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.deleteDocument('doc1', 'alice', 'a1'));
    s.exec(s.eraseDocument('doc1', 'alice', 'a1'));
    s.gwt(s.restoreDocument('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.documentErased,
    );
  });
  t.test('refuses a restore by a reader', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.deleteDocument('doc1', 'alice', 'a1'));
    s.gwt(s.restoreDocument('doc1', 'bob', 'b1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.roleLacksRight,
    );
  });
});

t.test('EraseDocument', async (t) => {
  t.test('staff erase a document, which then takes nothing more', async (t) => {
    const s = new Scenario().withDocument();
    const command = s.eraseDocument('doc1', 'alice', 'a1');
    s.gwt(command).then(t, [
      {
        type: 'DocumentErased',
        data: {
          ...signedByA1(command.data.record, 2),
        },
        metadata: meta(s, command.metadata.commandId),
      },
    ]);
    s.exec(command);
    t.equal(status(s), 'erased');
    s.gwt(s.moveDocument('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.documentErased,
    );
    s.gwt(s.deleteDocument('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.documentErased,
    );
    s.gwt(s.eraseDocument('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.documentErased,
    );
  });
  t.test('refuses an erasure under legal hold until it is lifted', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.placeLegalHold('council'));
    s.gwt(s.eraseDocument('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.legalHoldActive,
    );
    s.exec(s.liftLegalHold('council'));
    t.equal(
      s.exec(s.eraseDocument('doc1', 'alice', 'a1'))[0]?.type,
      'DocumentErased',
      'erasure works once the hold is lifted',
    );
  });
  t.test(
    'with a retention rule, erases only a document deleted at least that many days ago',
    async (t) => {
      const s = new Scenario().withDocument();
      s.exec(s.setRetention('council', 30));
      s.gwt(s.eraseDocument('doc1', 'alice', 'a1')).thenRefuses(
        t,
        ConflictError,
        DomainErrorCode.retentionActive,
      );
      s.exec(s.deleteDocument('doc1', 'alice', 'a1', { now: '2026-01-10T10:00:00.000Z' }));
      s.gwt(
        s.eraseDocument('doc1', 'alice', 'a1', { now: '2026-02-09T09:59:59.000Z' }),
      ).thenRefuses(t, ConflictError, DomainErrorCode.retentionActive);
      const later = s.eraseDocument('doc1', 'alice', 'a1', { now: '2026-02-09T10:00:00.000Z' });
      t.equal(
        s.exec(later)[0]?.type,
        'DocumentErased',
        'erasure works once the period has run out',
      );
    },
  );
  t.test(
    'a retention rule cleared to null is no rule: erasure at any time, unless a legal hold applies',
    async (t) => {
      // Given a committee whose 30-day rule was cleared, and a document that is not even deleted
      const s = new Scenario().withDocument();
      s.exec(s.setRetention('council', 30));
      s.exec(s.setRetention('council', null));
      // When a legal hold is placed, erasure is refused
      s.exec(s.placeLegalHold('council', {}, 'doc1'));
      s.gwt(s.eraseDocument('doc1', 'alice', 'a1')).thenRefuses(
        t,
        ConflictError,
        DomainErrorCode.legalHoldActive,
      );
      // Then, the hold lifted, it is erased at once
      s.exec(s.liftLegalHold('council', {}, 'doc1'));
      t.equal(s.exec(s.eraseDocument('doc1', 'alice', 'a1'))[0]?.type, 'DocumentErased');
    },
  );
  t.test('refuses an erasure by a reader', async (t) => {
    const s = new Scenario().withDocument();
    s.gwt(s.eraseDocument('doc1', 'bob', 'b1')).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.roleLacksRight,
    );
  });
  t.test('refuses an erasure of a document that does not exist', async (t) => {
    const s = new Scenario().standard();
    s.gwt(s.eraseDocument('doc1', 'alice', 'a1')).thenRefuses(
      t,
      NotFoundError,
      DomainErrorCode.documentUnknown,
    );
  });
});

t.test('certificates are judged at the tenant position a record names', async (t) => {
  t.test('accepts a version judged at an older position while the signer is valid', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.recordHeartbeat('adm1', {}, {}, 1_769_000_000));
    t.equal(
      s.exec(s.commitVersion('doc1', 'alice', 'a1', { fields: { tenantPosition: 2 } }))[0]?.type,
      'VersionCommitted',
    );
  });
  t.test(
    'refuses a version back-dated to a position where an expired certificate was valid',
    async (t) => {
      // a1 expires at 1_770_000_000; the newest heartbeat is later. Naming position 2 (before
      // the heartbeat, when a1 was valid) does not revive it: the twin of the devices' floor.
      const s = new Scenario().withDocument();
      s.exec(s.recordHeartbeat('adm1', {}, {}, 1_771_000_000));
      s.gwt(s.commitVersion('doc1', 'alice', 'a1', { fields: { tenantPosition: 2 } })).thenRefuses(
        t,
        ForbiddenError,
        DomainErrorCode.certificateNotValid,
      );
      // The same for a record of a user chain (heads-seen).
      s.gwt(
        s.recordHeadsSeen('alice', 'a1', [
          { stream: 'document-t1-doc1', length: 1, hash: new Uint8Array(64) },
        ]),
      ).thenRefuses(t, ForbiddenError, DomainErrorCode.certificateNotValid);
    },
  );
  t.test('refuses a version judged at a position after the certificate expired', async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.recordHeartbeat('adm1', {}, {}, 1_771_000_000));
    s.gwt(s.commitVersion('doc1', 'alice', 'a1', { fields: { tenantPosition: 3 } })).thenRefuses(
      t,
      ForbiddenError,
      DomainErrorCode.certificateNotValid,
    );
  });
  t.test('refuses a record naming a tenant position the chain does not have', async (t) => {
    const s = new Scenario().withDocument();
    s.gwt(s.commitVersion('doc1', 'alice', 'a1', { fields: { tenantPosition: 9 } })).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.tenantPositionUnknown,
    );
  });
  t.test('refuses without the tenant in its context', async (t) => {
    const s = new Scenario().withDocument();
    const command = s.commitVersion('doc1', 'alice', 'a1');
    given(documentDecider, s.events(s.documentStream('doc1')) as never)
      .when(command, {
        verifier: s.verifier,
        committee: s.committee('council'),
        users: { alice: s.user('alice') },
      })
      .thenRefuses(t, ValidationError, DomainErrorCode.contextMissing);
  });
});

t.test(
  'a revoked device that holds the epoch key forces a new epoch before the next write',
  async (t) => {
    const s = new Scenario().withDocument();
    s.exec(s.revokeDevice('bob', 'b1'));
    s.gwt(s.commitVersion('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.epochRotationRequired,
    );
    s.gwt(s.moveDocument('doc1', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.epochRotationRequired,
    );
    s.gwt(s.createDocument('doc2', 'council', 'alice', 'a1')).thenRefuses(
      t,
      ConflictError,
      DomainErrorCode.epochRotationRequired,
    );
    t.equal(
      s.exec(s.deleteDocument('doc1', 'alice', 'a1'))[0]?.type,
      'DocumentDeleted',
      'a deletion writes no content and goes ahead',
    );
    s.exec(s.restoreDocument('doc1', 'alice', 'a1'));
    s.exec(s.startKeyEpoch('council', 1, [{ userId: 'alice', deviceId: 'a1' }], 'alice', 'a1'));
    t.equal(
      s.exec(s.commitVersion('doc1', 'alice', 'a1'))[0]?.type,
      'VersionCommitted',
      'writing resumes under the new epoch',
    );
  },
);

t.test("refuses a command naming another document than the stream's", async (t) => {
  const s = new Scenario().withDocument();
  const command = s.deleteDocument('doc1', 'alice', 'a1');
  const bad = { ...command, data: { ...command.data, documentId: 'doc2' } };
  // Decided against doc1's stream: the scenario would route the command to doc2's.
  given(documentDecider, s.events(s.documentStream('doc1')) as never)
    .when(bad, s.context(command))
    .thenRefuses(t, ValidationError, DomainErrorCode.commandMalformed);
});

t.test('document records count only from a signer confirmed for the committee', async (t) => {
  const notConfirmed = DomainErrorCode.signerNotConfirmed;
  t.test(
    "an admin's own device for a staff member creates, writes, moves, deletes, restores and erases nothing",
    async (t) => {
      // The admin alone certifies a2 for alice (staff) and holds its keys.
      const s = new Scenario().withDocument();
      s.exec(s.certifyDevice('alice', 'a2'));
      s.gwt(s.createDocument('doc2', 'council', 'alice', 'a2')).thenRefuses(
        t,
        ForbiddenError,
        notConfirmed,
      );
      s.gwt(s.commitVersion('doc1', 'alice', 'a2')).thenRefuses(t, ForbiddenError, notConfirmed);
      s.gwt(s.moveDocument('doc1', 'alice', 'a2')).thenRefuses(t, ForbiddenError, notConfirmed);
      s.gwt(s.deleteDocument('doc1', 'alice', 'a2')).thenRefuses(t, ForbiddenError, notConfirmed);
      s.gwt(s.eraseDocument('doc1', 'alice', 'a2')).thenRefuses(t, ForbiddenError, notConfirmed);
      s.exec(s.deleteDocument('doc1', 'alice', 'a1'));
      s.gwt(s.restoreDocument('doc1', 'alice', 'a2')).thenRefuses(t, ForbiddenError, notConfirmed);
      // Vouched for by another unconfirmed device of alice: still refused.
      s.exec(s.certifyDevice('alice', 'a3'));
      s.exec(s.confirmDevice('alice', 'a3', 'alice', 'a2'));
      s.gwt(s.restoreDocument('doc1', 'alice', 'a3')).thenRefuses(t, ForbiddenError, notConfirmed);
      // alice's own confirmed a1 confirms a2: the chain a1 → a2 → a3 holds.
      s.exec(s.confirmDevice('alice', 'a2', 'alice', 'a1'));
      t.equal(s.exec(s.restoreDocument('doc1', 'alice', 'a3'))[0]?.type, 'DocumentRestored');
      t.equal(
        s.exec(s.createDocument('doc2', 'council', 'alice', 'a2'))[0]?.type,
        'DocumentCreated',
      );
    },
  );
  t.test(
    "a staff member's first device writes once the committee's staff confirmed it",
    async (t) => {
      const s = new Scenario().withDocument();
      s.exec(s.changeMembership('council', 'add', 'carol', 'staff'));
      s.exec(s.coSignMembership('council', 'carol', 'alice', 'a1'));
      s.gwt(s.createDocument('doc2', 'council', 'carol', 'cr1')).thenRefuses(
        t,
        ForbiddenError,
        notConfirmed,
      );
      s.exec(s.confirmDevice('carol', 'cr1', 'alice', 'a1', 'council'));
      s.exec(s.wrapEpochKeys('council', 0, [{ userId: 'carol', deviceId: 'cr1' }], 'alice', 'a1'));
      t.equal(
        s.exec(s.createDocument('doc2', 'council', 'carol', 'cr1'))[0]?.type,
        'DocumentCreated',
      );
      t.equal(s.exec(s.deleteDocument('doc1', 'carol', 'cr1'))[0]?.type, 'DocumentDeleted');
    },
  );
});
