// Logging a device in over HTTP the way a client does: a challenge, a proof signed with the
// device key, then the login (or another route that takes the same proof).
import { login, requestLoginChallenge } from '@ratsfach/api-contract';
import type { ApiClient } from '@ratsfach/client';
import { createLoginProof, type SigningKeyPair } from '@ratsfach/crypto';

/** A fresh challenge for the device and its proof: the body of login and of own-chains. */
export async function loginProofBody(
  api: ApiClient,
  tenantId: string,
  deviceId: string,
  signing: SigningKeyPair,
): Promise<{ deviceId: string; challengeId: string; proof: string }> {
  const { challengeId, challenge } = await api.call(requestLoginChallenge, {
    params: { tenantId },
    body: { deviceId },
  });
  const proof = createLoginProof(
    { tenantId, deviceId, challenge: new Uint8Array(Buffer.from(challenge, 'base64url')) },
    signing,
  );
  return { deviceId, challengeId, proof: Buffer.from(proof).toString('base64url') };
}

/** The device's bearer token after a login with its key. */
export async function loginToken(
  api: ApiClient,
  tenantId: string,
  deviceId: string,
  signing: SigningKeyPair,
): Promise<string> {
  const body = await loginProofBody(api, tenantId, deviceId, signing);
  return (await api.call(login, { params: { tenantId }, body })).token;
}

/** `api` with the device's token, after a login with its key. */
export async function logIn(
  api: ApiClient,
  tenantId: string,
  deviceId: string,
  signing: SigningKeyPair,
): Promise<ApiClient> {
  return api.withToken(await loginToken(api, tenantId, deviceId, signing));
}
