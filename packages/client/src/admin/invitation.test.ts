import t from 'tap';
import jsQR from 'jsqr';
import {
  cryptoReady,
  generateSigningKeyPair,
  parseEnrolmentCode,
  requirePinnedRoot,
} from '@ratsfach/crypto';
import { base64urlDecode } from '@ratsfach/kernel';
import {
  createInvitation,
  defaultInviteSeconds,
  invitationLines,
  invitationQr,
} from './invitation.js';

t.before(async () => {
  await cryptoReady();
});

/** Turns the terminal rendering back into pixels (a glyph's lit half is a light module). */
function scan(rendered: string): string | undefined {
  const rows = rendered.split('\n').map((line) => [...line]);
  const width = rows[0]?.length ?? 0;
  const scale = 4;
  const size = width * scale;
  const height = rows.length * 2 * scale;
  const pixels = new Uint8ClampedArray(size * height * 4);
  rows.forEach((chars, line) => {
    chars.forEach((char, column) => {
      const light = [char === '█' || char === '▀', char === '█' || char === '▄'];
      light.forEach((isLight, half) => {
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const y = (line * 2 + half) * scale + dy;
            const offset = (y * size + column * scale + dx) * 4;
            pixels.fill(isLight ? 255 : 0, offset, offset + 3);
            pixels[offset + 3] = 255;
          }
        }
      });
    });
  });
  return jsQR(pixels, size, height)?.data;
}

t.test('an invitation holds a one-time code that pins the root, and expires', async (t) => {
  const root = generateSigningKeyPair();
  const now = new Date('2026-12-03T12:00:00Z');
  const invitation = createInvitation({
    tenantId: 'stadt',
    userId: 'mueller',
    serverUrl: 'https://ratsfach.example',
    rootKey: root.publicKey,
    now,
  });
  t.equal(Date.parse(invitation.expiresAt) - now.getTime(), defaultInviteSeconds * 1000);
  t.same(base64urlDecode(invitation.codeId), invitation.code.codeId);
  const parsed = parseEnrolmentCode(invitation.code.text);
  requirePinnedRoot(parsed.rootPin, root.publicKey);
  t.throws(() => requirePinnedRoot(parsed.rootPin, generateSigningKeyPair().publicKey), {
    code: 'RATSFACH_CRYPTO_UNTRUSTED_ROOT',
  });
  const other = createInvitation({
    ...invitation,
    rootKey: root.publicKey,
    now,
    validSeconds: 3600,
  });
  t.not(other.code.text, invitation.code.text, 'every code is fresh');
  t.equal(other.expiresAt, '2026-12-03T13:00:00.000Z');
});

t.test('the QR code a terminal shows scans back to the exact code', async (t) => {
  const invitation = createInvitation({
    tenantId: 'stadt',
    userId: 'mueller',
    serverUrl: 'https://ratsfach.example',
    rootKey: generateSigningKeyPair().publicKey,
    now: new Date(),
  });
  const qr = invitationQr(invitation);
  t.equal(scan(qr), invitation.code.text);
  const lines = invitationLines(invitation);
  t.ok(lines.includes(invitation.code.text));
  t.ok(lines.includes(qr));
  t.match(lines.join('\n'), /--user mueller/);
  t.match(lines.join('\n'), new RegExp(`valid until ${invitation.expiresAt}`));
  t.equal(scan(qr.replace(/█/g, ' ')), undefined, 'the scan check itself can fail');
});
