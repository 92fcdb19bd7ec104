import { login, requestLoginChallenge, type Session } from '@ratsfach/api-contract';
import { createLoginProof, type SigningKeyPair } from '@ratsfach/crypto';
import { base64urlDecode, base64urlEncode } from '@ratsfach/kernel';
import type { ApiClient } from './apiClient.js';

/** A device that logged in: a client that sends its token, and what the token speaks for. */
export interface DeviceSession {
  readonly api: ApiClient;
  /** The bearer token (for requests outside the typed client, such as content streams). */
  readonly token: string;
  readonly session: Session;
}

/**
 * Logs a device in: asks for a one-time challenge, signs it with the device's signing key
 * (crypto's login proof) and exchanges the proof for a short-lived bearer token. A device the
 * service does not know as certified (still waiting, revoked) gets the service's problem.
 */
export async function logInDevice(
  api: ApiClient,
  device: {
    readonly tenantId: string;
    readonly deviceId: string;
    readonly signing: SigningKeyPair;
  },
): Promise<DeviceSession> {
  const params = { tenantId: device.tenantId };
  const challenge = await api.call(requestLoginChallenge, {
    params,
    body: { deviceId: device.deviceId },
  });
  const proof = createLoginProof(
    {
      tenantId: device.tenantId,
      deviceId: device.deviceId,
      challenge: base64urlDecode(challenge.challenge),
    },
    device.signing,
  );
  const reply = await api.call(login, {
    params,
    body: {
      deviceId: device.deviceId,
      challengeId: challenge.challengeId,
      proof: base64urlEncode(proof),
    },
  });
  return { api: api.withToken(reply.token), token: reply.token, session: reply.session };
}
