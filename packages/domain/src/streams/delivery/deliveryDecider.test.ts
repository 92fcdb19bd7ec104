import { ValidationError } from '@ratsfach/kernel';
import t from 'tap';
import { DomainErrorCode } from '../../domainErrorCode.js';
import { Scenario } from '../../testing/index.js';
import { deliveryDecider, deliveryDay } from './deliveryDecider.js';
import { given } from '../../testing/givenWhenThen.js';
import { streamOfCommand } from '../../routing/deciders.js';

t.test('RecordDelivery', async (t) => {
  t.test('records a server-attested delivery in the stream of its UTC day', async (t) => {
    const s = new Scenario();
    const command = s.recordDelivery({ deliveredAt: '2026-01-10T23:59:59.999Z' });
    t.equal(
      streamOfCommand(command),
      'delivery-t1-20260110',
      'the stream is named after the UTC day',
    );
    s.gwt(command).then(t, [
      {
        type: 'DocumentDelivered',
        data: { ...command.data, attestedBy: 'server' },
        metadata: { commandId: command.metadata.commandId, occurredAt: s.now },
      },
    ]);
    s.exec(command);
    s.exec(s.recordDelivery({ deliveredAt: '2026-01-10T00:00:00.000Z' }));
    t.same(s.stateOf('delivery-t1-20260110'), { deliveries: 2 }, 'the day counts its deliveries');
  });
  t.test('refuses a delivery of another day than the stream', async (t) => {
    const s = new Scenario();
    given(deliveryDecider, [])
      .when(s.recordDelivery({ deliveredAt: '2026-01-11T00:00:00.000Z' }), {
        verifier: s.verifier,
        day: '20260110',
      })
      .thenRefuses(t, ValidationError, DomainErrorCode.deliveryWrongDay);
  });
  t.test('refuses without the day in its context', async (t) => {
    const s = new Scenario();
    given(deliveryDecider, [])
      .when(s.recordDelivery(), { verifier: s.verifier })
      .thenRefuses(t, ValidationError, DomainErrorCode.contextMissing);
  });
  t.test('refuses a delivery time that is not ISO 8601 UTC', async (t) => {
    const s = new Scenario();
    given(deliveryDecider, [])
      .when(s.recordDelivery({ deliveredAt: '2026-01-10 10:00' }), {
        verifier: s.verifier,
        day: '20260110',
      })
      .thenRefuses(t, ValidationError, DomainErrorCode.commandMalformed);
  });
  t.test('refuses version 0', async (t) => {
    const s = new Scenario();
    s.gwt(s.recordDelivery({ version: 0 })).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.commandMalformed,
    );
  });
  t.test('refuses a device id of the wrong shape', async (t) => {
    const s = new Scenario();
    s.gwt(s.recordDelivery({ deviceId: 'b-1' })).thenRefuses(
      t,
      ValidationError,
      DomainErrorCode.commandMalformed,
    );
  });
});

t.test('deliveryDay takes the UTC day of a time', async (t) => {
  t.equal(deliveryDay('2026-12-31T23:59:59Z'), '20261231');
});
