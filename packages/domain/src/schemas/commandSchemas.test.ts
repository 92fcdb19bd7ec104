import t from 'tap';
import { ValidationError, canonicalStringify } from '@ratsfach/kernel';
import type { CanonicalValue } from '@ratsfach/kernel';
import { DomainErrorCode } from '../domainErrorCode.js';
import { commandFromJson, commandToJson, parseCommand } from '../routing/parseCommand.js';
import type { DomainCommand } from '../routing/deciders.js';
import { encodeEvent } from '../codec/eventSerializer.js';
import { Scenario, sampleEventData } from '../testing/index.js';
import { commandDataSchemas, commandJsonSchemas } from './commandSchemas.js';
import type { CommandData, CommandJson } from './commandSchemas.js';
import { eventDataSchemas } from './eventSchemas.js';
import type { EventType } from './eventSchemas.js';
import type { CreateTenant } from '../streams/tenant/tenantStream.js';

const show = (value: unknown): string => canonicalStringify(value as CanonicalValue);

function everyCommand(): DomainCommand[] {
  const s = new Scenario().withDocument();
  return [
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
    s.setRetention('council', 30),
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
}

t.test('the types are the schemas: a command data type is Static<> of its schema', async (t) => {
  const data: CommandData<'CreateTenant'> = { tenantId: 't1', record: new Uint8Array(1) };
  const command: CreateTenant['data'] = data;
  // @ts-expect-error: in memory the record is bytes, never text
  const text: CommandData<'CreateTenant'> = { tenantId: 't1', record: 'AAAA' };
  // @ts-expect-error: in a JSON body the record is base64url text, never bytes
  const json: CommandJson = { type: 'CreateTenant', data, metadata: { commandId: 'c', now: '' } };
  t.ok(command !== undefined && text !== undefined && json !== undefined);
  t.same(Object.keys(commandDataSchemas).sort(), Object.keys(commandJsonSchemas).sort());
});

t.test('every command goes to JSON and back unchanged', async (t) => {
  const commands = everyCommand();
  t.equal(new Set(commands.map((c) => c.type)).size, 24, 'all 24 command types');
  for (const command of commands) {
    const body: unknown = JSON.parse(JSON.stringify(commandToJson(command)));
    const { data } = body as { data: { record?: unknown } };
    if ('record' in command.data) {
      t.match(data.record, /^[A-Za-z0-9_-]+$/, `${command.type}: the record travels as base64url`);
    }
    t.equal(show(commandFromJson(body)), show(command), `${command.type} reads back`);
    t.equal(show(parseCommand(commandFromJson(body))), show(command));
  }
});

t.test('a JSON body is refused unless it is exactly a command', async (t) => {
  const good = commandToJson(new Scenario().createUser('alice'));
  const withRecord = (record: unknown) => ({ ...good, data: { ...good.data, record } });
  const cases: [string, unknown, string][] = [
    ['not an object', '{}', DomainErrorCode.commandMalformed],
    ['an array', [good], DomainErrorCode.commandMalformed],
    ['an unknown type', { ...good, type: 'DropTables' }, DomainErrorCode.typeUnknown],
    ['a prototype name as type', { ...good, type: '__proto__' }, DomainErrorCode.typeUnknown],
    ['the record as bytes', withRecord(new Uint8Array(3)), DomainErrorCode.commandMalformed],
    ['the record as a list of numbers', withRecord([1, 2, 3]), DomainErrorCode.commandMalformed],
    ['the record padded', withRecord('AAE='), DomainErrorCode.commandMalformed],
    ['the record in standard base64', withRecord('+/8'), DomainErrorCode.commandMalformed],
    ['the record with stray bits', withRecord('AAF'), DomainErrorCode.commandMalformed],
    ['the record of an impossible length', withRecord('AAAAA'), DomainErrorCode.commandMalformed],
    [
      'a record over 64 KiB',
      withRecord('A'.repeat(Math.ceil((65 * 1024 * 4) / 3))),
      DomainErrorCode.commandMalformed,
    ],
    [
      'an extra field',
      { ...good, data: { ...good.data, isAdmin: true } },
      DomainErrorCode.commandMalformed,
    ],
    ['an extra top-level field', { ...good, sudo: true }, DomainErrorCode.commandMalformed],
    [
      'an id of the wrong shape',
      { ...good, data: { ...good.data, userId: 'Alice' } },
      DomainErrorCode.commandMalformed,
    ],
    [
      'a time that is no date',
      { ...good, metadata: { commandId: 'c1', now: '2026-13-01T00:00:00Z' } },
      DomainErrorCode.commandMalformed,
    ],
    [
      'an empty command id',
      { ...good, metadata: { ...good.metadata, commandId: '' } },
      DomainErrorCode.commandMalformed,
    ],
  ];
  for (const [name, value, code] of cases) {
    t.throws(() => commandFromJson(value), { constructor: ValidationError, code }, name);
  }
  t.throws(
    () => commandFromJson({ ...good, data: { ...good.data, isAdmin: true } }),
    { message: /isAdmin/ },
    'the refusal names the extra field',
  );
});

t.test('the JSON schemas are plain JSON Schema an HTTP framework can validate with', async (t) => {
  const schema = JSON.parse(JSON.stringify(commandJsonSchemas.CommitVersion)) as {
    properties: { data: { properties: { record: unknown }; additionalProperties: boolean } };
  };
  t.match(schema.properties.data.properties.record, {
    type: 'string',
    pattern: '^[A-Za-z0-9_-]*$',
  });
  t.equal(schema.properties.data.additionalProperties, false, 'unknown fields are refused');
  t.notMatch(JSON.stringify(commandJsonSchemas), /"~/, 'no TypeBox-internal keys leak');
});

t.test('sample event data fits every event schema', async (t) => {
  for (const type of Object.keys(eventDataSchemas) as EventType[]) {
    const event = {
      type,
      data: sampleEventData(type),
      metadata: { commandId: 'c1', occurredAt: '2026-11-28T03:00:00.000Z' },
    } as DomainEvent;
    t.doesNotThrow(() => encodeEvent(event), type);
  }
});

type DomainEvent = Parameters<typeof encodeEvent>[0];
