import t from 'tap';
import { ApiErrorCode, openApiPath } from '@ratsfach/api-contract';
import { certifyAdminDeviceCommand, createTenantCommand } from '@ratsfach/client';
import {
  createLoginProof,
  cryptoReady,
  generateDeviceKeys,
  generateSigningKeyPair,
  hash512,
} from '@ratsfach/crypto';
import { startTestService } from './helpers/startTestService.js';

await cryptoReady();

/** Tenant routes anyone may call: each must be listed here on purpose. */
const openTenantRoutes = new Set([
  'POST /v1/tenants/{tenantId}/login/challenge',
  'POST /v1/tenants/{tenantId}/login',
  // A login proof in the body stands in for a token (a revoked device reads why it was refused).
  'POST /v1/tenants/{tenantId}/login/chains',
  'POST /v1/tenants/{tenantId}/bootstrap',
  'POST /v1/tenants/{tenantId}/enrolments',
]);

t.test(
  "a tenant's token opens no route of another tenant (routes from the OpenAPI document)",
  async (t) => {
    // Every area registered, on the real stores: t1 is a bootstrapped tenant with an admin device.
    // One login per route: lift the per-device login limit for this test.
    const service = await startTestService(t, { loginsPerMinute: 1000 });
    const app = service.app;
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const root = generateSigningKeyPair();
    const admin = generateDeviceKeys();
    const now = Math.floor(Date.now() / 1000);
    const genesis = createTenantCommand({ tenantId: 't1', createdAt: now - 60, root });
    const bootstrap = await app.inject({
      method: 'POST',
      url: '/v1/tenants/t1/bootstrap',
      payload: {
        createTenant: genesis,
        certifyAdminDevice: certifyAdminDeviceCommand({
          tenantId: 't1',
          userId: 'office',
          deviceId: 'adm',
          signingKey: admin.signing.publicKey,
          kemKey: admin.kem.publicKey,
          notBefore: now - 60,
          notAfter: now + 86400,
          link: {
            sequence: 1,
            previousHash: hash512(new Uint8Array(Buffer.from(genesis.data.record, 'base64url'))),
          },
          root,
        }),
      },
    });
    t.equal(bootstrap.statusCode, 201);
    await service.settle();
    const keys = admin.signing;
    const logIn = async (): Promise<string> => {
      const { challengeId, challenge } = (
        await app.inject({
          method: 'POST',
          url: '/v1/tenants/t1/login/challenge',
          payload: { deviceId: 'adm' },
        })
      ).json();
      const proof = Buffer.from(
        createLoginProof(
          {
            tenantId: 't1',
            deviceId: 'adm',
            challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
          },
          keys,
        ),
      ).toString('base64url');
      const login = await app.inject({
        method: 'POST',
        url: '/v1/tenants/t1/login',
        payload: { deviceId: 'adm', challengeId, proof },
      });
      t.equal(login.statusCode, 200);
      return login.json().token as string;
    };
    // Each route gets a fresh token: logout ends the one it is given.
    let token = await logIn();

    const document = (await app.inject({ method: 'GET', url: openApiPath })).json() as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    let checked = 0;
    const visited = new Set<string>();
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const name = `${method.toUpperCase()} ${path}`;
        visited.add(name);
        if (!path.includes('{tenantId}')) {
          t.notOk(
            path.startsWith('/v1/'),
            `${name} is not tenant-scoped: only health lives outside tenants`,
          );
          continue;
        }
        if (!operation.security) {
          t.ok(openTenantRoutes.has(name), `${name} needs no token: listed on purpose`);
          continue;
        }
        token = await logIn();
        const url = path.replace('{tenantId}', 't2').replace(/\{[A-Za-z]+\}/g, 'x1');
        const injected = {
          method: method.toUpperCase() as 'GET',
          url,
          headers: { authorization: `Bearer ${token}` },
        };
        const foreign = await app.inject(injected);
        const unknown = await app.inject({
          ...injected,
          headers: { authorization: `Bearer ${'A'.repeat(43)}` },
        });
        t.equal(foreign.statusCode, 401, `${name} refuses t1's token at t2`);
        t.equal(foreign.json().code, ApiErrorCode.unauthenticated, name);
        t.equal(
          foreign.body.replace(/request:[^"]+/, ''),
          unknown.body.replace(/request:[^"]+/, ''),
          `${name}: learns nothing`,
        );
        // Over a socket: an event stream answers its headers and then stays open, so the body is
        // dropped once the status is known.
        const own = await fetch(
          `${address}${path.replace('{tenantId}', 't1').replace(/\{[A-Za-z]+\}/g, 'x1')}`,
          { method: method.toUpperCase(), headers: injected.headers },
        );
        await own.body?.cancel();
        t.not(own.status, 401, `${name} accepts the token at its own tenant`);
        checked++;
      }
    }
    t.ok(checked >= 2, `${checked} authenticated routes checked`);
    // The admin listing of a tenant's chains names every user and committee: it must be among them.
    t.ok(visited.has('GET /v1/tenants/{tenantId}/records/chains'), 'the chains listing is checked');
  },
);
