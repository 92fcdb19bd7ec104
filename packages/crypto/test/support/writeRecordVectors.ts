/**
 * Rewrites packages/crypto/vectors/records.json. Run only when the format changes on purpose:
 *   scripts/run-ts.sh packages/crypto/test/support/writeRecordVectors.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildRecordVectors } from '../recordVectors.js';

const target = fileURLToPath(new URL('../../vectors/records.json', import.meta.url));
writeFileSync(target, await buildRecordVectors());
console.log(`wrote ${target}`);
