import t from 'tap';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { once } from 'node:events';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from './helpers/buildTestApp.js';

const timeouts = { headersMs: 800, requestMs: 3_000, idleMs: 600, keepAliveMs: 500 };

const listening = async (app: FastifyInstance) => {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
};

const open = async (port: number, localAddress = '127.0.0.1'): Promise<Socket> => {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  return socket;
};

/** Milliseconds until the server closes the socket, or null when it is still open after `limitMs`. */
const closedWithin = (socket: Socket, limitMs: number) =>
  new Promise<number | null>((done) => {
    const started = Date.now();
    const timer = setTimeout(() => done(null), limitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      done(Date.now() - started);
    });
  });

const health = (port: number, localAddress: string) =>
  new Promise<number>((done, fail) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/healthz', localAddress, agent: false },
      (res) => {
        res.resume();
        done(res.statusCode ?? 0);
      },
    );
    req.on('error', fail);
    req.end();
  });

t.test('a connection that never sends anything is closed', async (t) => {
  const app = await buildTestApp(t, {}, { timeouts });
  const port = await listening(app);
  const silent = await open(port);
  const after = await closedWithin(silent, 5_000);
  t.ok(after !== null, 'closed by the server');
  t.ok(after! >= timeouts.idleMs - 100, `not before the idle timeout (${after} ms)`);
});

t.test('a client sending its headers one byte at a time is cut off', async (t) => {
  const app = await buildTestApp(t, {}, { timeouts });
  const port = await listening(app);
  const slow = await open(port);
  const text = 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: ' + 'a'.repeat(200);
  let sent = 0;
  // One byte every 200 ms keeps the idle timeout from firing; the headers timeout must.
  const drip = setInterval(() => {
    if (!slow.destroyed && sent < text.length) slow.write(text[sent++]!);
  }, 200);
  t.teardown(() => clearInterval(drip));
  const after = await closedWithin(slow, 6_000);
  clearInterval(drip);
  t.ok(after !== null, `closed (${sent} bytes sent)`);
  t.ok(sent < text.length, 'before the headers were complete');
});

t.test(
  'many idle connections from one address neither pile up nor make /healthz fail',
  async (t) => {
    const cap = 20;
    const app = await buildTestApp(
      t,
      { checks: [{ name: 'self', check: async () => {} }] },
      {
        timeouts: { ...timeouts, idleMs: 30_000, headersMs: 30_000 },
        maxConnectionsPerAddress: cap,
      },
    );
    const port = await listening(app);
    const sockets = await Promise.all(Array.from({ length: 200 }, () => open(port)));
    t.teardown(() => sockets.forEach((socket) => socket.destroy()));
    const closed = await Promise.all(sockets.map((socket) => closedWithin(socket, 1_500)));
    const kept = closed.filter((after) => after === null).length;
    t.equal(kept, cap, `the server keeps ${cap} of 200 connections from one address`);
    const connections = await new Promise<number>((done, fail) =>
      app.server.getConnections((error, count) => (error ? fail(error) : done(count))),
    );
    t.ok(connections <= cap, `the process holds ${connections} sockets, not 200`);
    t.equal(await health(port, '127.0.0.2'), 200, 'another address is served');
    for (const socket of sockets) socket.destroy();
    await new Promise((done) => setTimeout(done, 100));
    t.equal(await health(port, '127.0.0.1'), 200, 'the address is served again once it lets go');
  },
);
