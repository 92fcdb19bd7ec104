import t from 'tap';
import {
  cryptoReady,
  createLoginProof,
  fingerprint,
  generateSigningKeyPair,
} from '@ratsfach/crypto';
import type { ReadModelStore } from '@ratsfach/read-model';
import { ApiErrorCode, openApiPath } from '@ratsfach/api-contract';
import { MemoryBlobStore } from '@ratsfach/blob-store/memory';
import { openMemoryEventStore } from '@ratsfach/event-store/memory';
import { buildTestApp } from './helpers/buildTestApp.js';

await cryptoReady();

/** Tenant routes anyone may call: each must be listed here on purpose. */
const openTenantRoutes = new Set([
  'POST /v1/tenants/{tenantId}/login/challenge',
  'POST /v1/tenants/{tenantId}/login',
]);

t.test(
  "a tenant's token opens no route of another tenant (routes from the OpenAPI document)",
  async (t) => {
    const keys = generateSigningKeyPair();
    const readModel = {
      deviceStanding: async (tenantId: string, deviceId: string) => ({
        tenantId,
        userId: 'u1',
        deviceId,
        admin: true,
        fingerprint: fingerprint(keys.publicKey),
        notBefore: 0,
        notAfter: 4_000_000_000,
        revoked: false,
        certifiedAt: 1n,
        revokedAt: null,
      }),
    } as unknown as ReadModelStore;
    // With stores, every area is registered (uploads, documents, manifest, push): the document
    // lists them all. The fake read model answers the standing only, so a request of the own
    // tenant fails later (a 5xx or a 4xx), never as unauthenticated.
    const eventStore = await openMemoryEventStore();
    const blobStore = new MemoryBlobStore();
    t.teardown(() => blobStore.close());
    const app = await buildTestApp(t, { readModel, stores: { eventStore, blobStore } });
    const logIn = async () => {
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
    let token = await logIn();

    const document = (await app.inject({ method: 'GET', url: openApiPath })).json() as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    let checked = 0;
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const name = `${method.toUpperCase()} ${path}`;
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
        const own = await app.inject({
          ...injected,
          url: path.replace('{tenantId}', 't1').replace(/\{[A-Za-z]+\}/g, 'x1'),
        });
        t.not(own.statusCode, 401, `${name} accepts the token at its own tenant`);
        // Logging out ends the token: the routes after it need a new one.
        if (name === 'DELETE /v1/tenants/{tenantId}/session') token = await logIn();
        checked++;
      }
    }
    t.ok(checked >= 15, `${checked} authenticated routes checked`);
  },
);
