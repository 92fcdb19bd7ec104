import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isRatsfachError, type Purpose } from '@ratsfach/kernel';
import { cryptoReady, openAnyRecord, openRecord } from '../src/index.js';

const file = fileURLToPath(new URL('../vectors/records.json', import.meta.url));

/** A small deterministic PRNG (xorshift32), so a failure replays. */
const prng = (seed: number) => () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 0x100000000;
};

t.test(
  'mutated records re-signed by their signer decode or fail with a typed error, never crash',
  async (t) => {
    const s = await cryptoReady();
    const v = JSON.parse(readFileSync(file, 'utf8')) as {
      records: Record<string, { bytes: string; signerSeed: string }>;
    };
    const random = prng(0x5eed);
    let typed = 0;
    let decoded = 0;
    for (const [purpose, vector] of Object.entries(v.records)) {
      const bytes = s.from_hex(vector.bytes);
      const key = s.crypto_sign_seed_keypair(s.from_hex(vector.signerSeed));
      const signed = bytes.subarray(0, bytes.length - 64);
      const resign = (body: Uint8Array): Uint8Array => {
        const out = new Uint8Array(body.length + 64);
        out.set(body);
        out.set(s.crypto_sign_detached(body, key.privateKey), body.length);
        return out;
      };
      const mutants: Uint8Array[] = [];
      for (let cut = 0; cut < signed.length; cut += Math.max(1, Math.floor(signed.length / 40))) {
        mutants.push(signed.slice(0, cut));
      }
      for (let i = 0; i < 60; i++) {
        const m = Uint8Array.from(signed);
        // Keep suite, label and signer key so the mutant reaches the decoder.
        const keep = 2 + (m[1] as number) + 32;
        const at = keep + Math.floor(random() * (m.length - keep));
        m[at] = Math.floor(random() * 256);
        mutants.push(m);
      }
      for (const mutant of mutants) {
        const record = resign(mutant);
        for (const open of [
          () => openRecord(record, purpose as Purpose),
          () => openAnyRecord(record),
        ]) {
          try {
            open();
            decoded += 1;
          } catch (error) {
            if (!isRatsfachError(error)) {
              t.fail(`${purpose}: untyped ${String(error)}`);
              return;
            }
            typed += 1;
          }
        }
      }
    }
    t.ok(typed > 1000, `${typed} mutants refused with typed errors`);
    t.ok(decoded > 0, `${decoded} mutants still decoded (changed values, same layout)`);
  },
);
