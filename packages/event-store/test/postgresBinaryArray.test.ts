import pg from 'pg';
import t from 'tap';
import { ValidationError } from '@ratsfach/kernel';
import {
  binaryByteaArray,
  binaryInt4Array,
  binaryInt8Array,
  binaryTextArray,
  binaryUuidArray,
} from '../src/postgres/postgresBinaryArray.js';
import { testPostgresUrl } from './postgresBackend.js';

t.test('binary arrays reach PostgreSQL as the values they encode', async (t) => {
  const client = new pg.Client({ connectionString: await testPostgresUrl() });
  await client.connect();
  t.teardown(() => client.end());
  const bytes = [new Uint8Array([0, 1, 255]), new Uint8Array([]), Buffer.from('x')];
  const texts = ['plain', 'Größe ✓ 🗎', ''];
  const uuids = ['0b1e6b2c-6f0a-5d2e-8f3b-9a1c2d3e4f50', 'FFFFFFFF-0000-4000-8000-00000000000A'];
  const { rows } = await client.query<{
    b: string[];
    t: string[];
    u: string[];
    i8: string[];
    i4: number[];
    empty: string[];
  }>(
    `SELECT (SELECT array_agg(encode(x, 'hex')) FROM unnest($1::bytea[]) x) AS b,
            $2::text[] AS t, $3::uuid[]::text[] AS u, $4::bigint[]::text[] AS i8, $5::int[] AS i4,
            $6::bytea[]::text[] AS empty`,
    [
      binaryByteaArray(bytes),
      binaryTextArray(texts),
      binaryUuidArray(uuids),
      binaryInt8Array([0n, -1n, 9_007_199_254_740_993n]),
      binaryInt4Array([0, -7, 2_147_483_647]),
      binaryByteaArray([]),
    ],
  );
  const row = rows[0];
  t.same(row?.b, ['0001ff', '', '78']);
  t.same(row?.t, texts);
  t.same(
    row?.u,
    uuids.map((u) => u.toLowerCase()),
  );
  t.same(row?.i8, ['0', '-1', '9007199254740993']);
  t.same(row?.i4, [0, -7, 2_147_483_647]);
  t.same(row?.empty, []);
});

t.test('a string that is not a UUID is refused, not sent as garbage', async (t) => {
  for (const bad of ['not-a-uuid', '0b1e6b2c-6f0a-5d2e-8f3b-9a1c2d3e4f5z', '0b1e6b2c']) {
    let caught: unknown;
    try {
      binaryUuidArray([bad]);
    } catch (error) {
      caught = error;
    }
    t.ok(caught instanceof ValidationError, `${bad}: a ValidationError`);
    t.equal((caught as ValidationError).code, 'RATSFACH_EVENT_STORE_PG_UUID_INVALID', bad);
  }
});
