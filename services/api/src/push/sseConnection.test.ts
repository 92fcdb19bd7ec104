import t from 'tap';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { SseConnection, frame } from './sseConnection.js';

/** A response whose buffer the test fills and drains. */
class FakeResponse extends EventEmitter {
  writableNeedDrain = false;
  readonly written: string[] = [];
  destroyed = false;
  ended = false;
  write(text: string) {
    this.written.push(text);
    return !this.writableNeedDrain;
  }
  end(text: string) {
    this.written.push(text);
    this.ended = true;
    this.emit('close');
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
}

const open = (stallMs = 50) => {
  const res = new FakeResponse();
  let ends = 0;
  const connection = new SseConnection(res as unknown as ServerResponse, {
    stallMs,
    onEnd: () => ends++,
  });
  return { res, connection, ends: () => ends };
};

t.test('writes notices at once while the reader keeps up', async (t) => {
  const { res, connection } = open();
  connection.send('ready', 3n);
  connection.send('feeds', 5n);
  connection.heartbeat();
  t.same(res.written, [frame('ready', 3n), frame('feeds', 5n), ': hb\n\n']);
  t.equal(frame('feeds', 5n), 'id: 5\nevent: feeds\ndata: {"position":"5"}\n\n');
});

t.test('coalesces notices while the socket is full and writes the newest on drain', async (t) => {
  const { res, connection } = open(10_000);
  res.writableNeedDrain = true;
  connection.send('feeds', 7n);
  connection.send('feeds', 9n);
  connection.send('feeds', 8n);
  connection.heartbeat();
  t.same(res.written, [], 'nothing is written into a full buffer');
  res.writableNeedDrain = false;
  res.emit('drain');
  t.same(res.written, [frame('feeds', 9n)], 'one notice, the newest position');
  connection.close();
});

t.test('drops a stream that stays full, without waiting for it', async (t) => {
  const { res, connection, ends } = open(30);
  connection.send('feeds', 1n);
  res.writableNeedDrain = true;
  connection.send('feeds', 2n);
  await new Promise((resolve) => setTimeout(resolve, 80));
  t.ok(res.destroyed, 'the stalled socket is destroyed');
  t.equal(ends(), 1, 'and the stream ended once');
  t.ok(connection.ended);
  connection.send('feeds', 3n);
  connection.heartbeat();
  connection.close();
  t.equal(res.written.length, 1, 'an ended stream writes nothing more');
});

t.test('a write that fills the buffer starts the stall clock; drain stops it', async (t) => {
  const { res, connection, ends } = open(30);
  res.write = (text: string) => {
    res.written.push(text);
    res.writableNeedDrain = true;
    return false;
  };
  connection.send('ready', 1n);
  res.writableNeedDrain = false;
  res.emit('drain');
  await new Promise((resolve) => setTimeout(resolve, 60));
  t.notOk(res.destroyed, 'a reader that drained in time stays');
  t.equal(ends(), 0);
  connection.close();
  t.ok(res.ended, 'close ends the response');
  t.match(res.written.at(-1), /event: closing/, 'with a closing event');
  t.equal(ends(), 1);
});

t.test('a socket error ends the stream', async (t) => {
  const { res, ends } = open();
  res.emit('error', new Error('reset'));
  t.equal(ends(), 1);
});
