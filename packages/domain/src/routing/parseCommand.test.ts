import { ValidationError } from '@ratsfach/kernel';
import t from 'tap';
import { DomainErrorCode } from '../domainErrorCode.js';
import { parseCommand } from './parseCommand.js';
import { Scenario } from '../testing/index.js';
import { decideTenant } from '../streams/tenant/tenantDecider.js';

t.test('accepts every command the scenario builds', async (t) => {
  const s = new Scenario().withDocument();
  const commands = [
    s.createTenant(),
    s.certifyAdminDevice('adm2'),
    s.revokeAdminDevice('adm1'),
    s.recordHeartbeat('adm1', {}),
    s.recordCheckpoint('adm1', 3),
    s.createUser('zed'),
    s.certifyDevice('alice', 'a2'),
    s.revokeDevice('alice', 'a1'),
    s.recordHeadsSeen('alice', 'a1', []),
    s.createCommittee('c2'),
    s.changeMembership('council', 'add', 'carol', 'reader'),
    s.coSignMembership('council', 'carol', 'alice', 'a1'),
    s.startKeyEpoch('council', 1, [{ userId: 'alice', deviceId: 'a1' }], 'alice', 'a1'),
    s.wrapEpochKeys('council', 0, [{ userId: 'bob', deviceId: 'b1' }], 'alice', 'a1'),
    s.setRetention('council', null),
    s.placeLegalHold('council', {}, 'doc1'),
    s.liftLegalHold('council'),
    s.createDocument('doc2', 'council', 'alice', 'a1'),
    s.commitVersion('doc1', 'alice', 'a1'),
    s.moveDocument('doc1', 'alice', 'a1'),
    s.deleteDocument('doc1', 'alice', 'a1'),
    s.restoreDocument('doc1', 'alice', 'a1'),
    s.eraseDocument('doc1', 'alice', 'a1'),
    s.recordDelivery(),
  ];
  t.equal(new Set(commands.map((c) => c.type)).size, 24, 'all 24 command types');
  for (const command of commands) t.equal(parseCommand(command), command, command.type);
});

t.test('refuses what is not a well-formed command', async (t) => {
  const s = new Scenario();
  const good = s.createUser('alice');
  const cases: [string, unknown, string][] = [
    ['not an object', 'CreateUser', DomainErrorCode.commandMalformed],
    ['null', null, DomainErrorCode.commandMalformed],
    ['an unknown type', { ...good, type: 'DropTables' }, DomainErrorCode.typeUnknown],
    ['a prototype name as type', { ...good, type: 'constructor' }, DomainErrorCode.typeUnknown],
    [
      'a missing field',
      { ...good, data: { ...good.data, userId: undefined } },
      DomainErrorCode.commandMalformed,
    ],
    [
      'an extra field',
      { ...good, data: { ...good.data, isAdmin: true } },
      DomainErrorCode.commandMalformed,
    ],
    [
      'a record that is not bytes',
      { ...good, data: { ...good.data, record: 'AAAA' } },
      DomainErrorCode.commandMalformed,
    ],
    [
      'an id of another tenant shape',
      { ...good, data: { ...good.data, tenantId: 't1-x' } },
      DomainErrorCode.commandMalformed,
    ],
    [
      'metadata without a time',
      { ...good, metadata: { commandId: 'c1' } },
      DomainErrorCode.commandMalformed,
    ],
    ['no metadata', { type: good.type, data: good.data }, DomainErrorCode.commandMalformed],
  ];
  for (const [name, value, code] of cases) {
    t.throws(() => parseCommand(value), { constructor: ValidationError, code }, name);
  }
});

t.test('a decider refuses an unknown command type with a typed error', async (t) => {
  const s = new Scenario();
  const command = { ...s.createTenant(), type: 'Nope' } as never;
  t.throws(() => decideTenant(command, { status: 'absent' }, { verifier: s.verifier }), {
    constructor: ValidationError,
    code: DomainErrorCode.typeUnknown,
  });
});
