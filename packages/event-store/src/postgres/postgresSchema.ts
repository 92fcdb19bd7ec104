import { ValidationError } from '@ratsfach/kernel';

/**
 * Schema names are plain lowercase identifiers, so they can be spliced into SQL unquoted-safe
 * (we still quote them) and fit, with a prefix, into a 63-byte LISTEN channel name.
 */
const schemaPattern = /^[a-z_][a-z0-9_]{0,47}$/;

/** Checks a schema name; throws ValidationError RATSFACH_EVENT_STORE_PG_SCHEMA_INVALID. */
export function checkPostgresSchemaName(schema: string): string {
  if (typeof schema !== 'string' || !schemaPattern.test(schema)) {
    throw new ValidationError(
      'RATSFACH_EVENT_STORE_PG_SCHEMA_INVALID',
      `PostgreSQL schema name ${JSON.stringify(schema)} is not [a-z_][a-z0-9_]{0,47}`,
      { hint: 'pass a lowercase schema name such as "ratsfach" in the store options' },
    );
  }
  return schema;
}

/** The SQL names of one store, all derived from its schema. */
export interface PostgresNames {
  readonly schema: string;
  readonly events: string;
  readonly positions: string;
  readonly appendBatch: string;
  /**
   * LISTEN/NOTIFY channel woken after every committed batch. The NOTIFY is sent after COMMIT,
   * in a transaction of its own: a NOTIFY inside the batch would hold PostgreSQL's global notify
   * lock across the batch's WAL flush and serialise the commits of every appending process.
   */
  readonly channel: string;
  /** Key of the advisory lock that orders transaction ids and positions (see `appendBatchSql`). */
  readonly positionLockKey: string;
}

export function postgresNames(schema: string): PostgresNames {
  checkPostgresSchemaName(schema);
  const q = `"${schema}"`;
  return {
    schema,
    events: `${q}.events`,
    positions: `${q}.events_position_seq`,
    appendBatch: `${q}.append_batch`,
    channel: `ratsfach_events_${schema}`,
    positionLockKey: `hashtextextended('ratsfach.events.position:${schema}', 0)`,
  };
}

/**
 * Events are stored as the exact bytes hashed (bytea, never json/jsonb). `xid` is the top-level
 * transaction id of the append: subscriptions only read rows whose transaction is older than
 * the oldest one still running, so they never pass a position that may still commit below them.
 */
function tableSql(n: PostgresNames): string {
  return `
CREATE SCHEMA IF NOT EXISTS "${n.schema}";
CREATE SEQUENCE IF NOT EXISTS ${n.positions} AS bigint MINVALUE 1;
CREATE TABLE IF NOT EXISTS ${n.events} (
  global_position bigint NOT NULL PRIMARY KEY,
  xid xid8 NOT NULL,
  stream text NOT NULL,
  revision bigint NOT NULL CHECK (revision >= 0),
  event_id uuid NOT NULL,
  type text NOT NULL,
  data bytea NOT NULL,
  metadata bytea NOT NULL,
  hash bytea NOT NULL CHECK (octet_length(hash) = 64),
  prev_hash bytea NOT NULL CHECK (octet_length(prev_hash) = 64),
  command_id text NOT NULL,
  CONSTRAINT events_stream_revision_key UNIQUE (stream, revision),
  CONSTRAINT events_event_id_key UNIQUE (event_id)
);`;
}

/**
 * One group-commit batch: the adapter calls it as a statement of its own (its own implicit
 * transaction); whoever else calls it must make it the first write of its transaction, so that
 * the transaction's xid is assigned under the lock. The events of all appends come as parallel
 * arrays; `p_append[i]` says which append event i belongs to (contiguous runs).
 *
 * Positions: the transaction's xid and all its positions are taken together under a short
 * advisory lock, so among appenders a smaller xid always means smaller positions. A reader that
 * only takes rows with xid < pg_snapshot_xmin(current snapshot) therefore never delivers a
 * position above one that is still in flight: every transaction still running then has an xid
 * at or above that xmin, hence positions above everything delivered. The lock is held only while
 * the xid and the positions are taken, not until commit, so transactions still overlap and
 * commit in parallel.
 *
 * All appends are first inserted together in one savepoint (a PL/pgSQL exception block is one).
 * If that hits a unique violation, it is rolled back and each append is inserted again in a
 * savepoint of its own, so a refusal refuses that append alone; the name of the violated
 * constraint comes back as its outcome. Nothing is visible to anyone before COMMIT.
 */
function appendBatchSql(n: PostgresNames): string {
  return `
CREATE OR REPLACE FUNCTION ${n.appendBatch}(
  p_append int[], p_stream text[], p_revision bigint[], p_event_id uuid[], p_type text[],
  p_data bytea[], p_metadata bytea[], p_hash bytea[], p_prev_hash bytea[], p_command_id text[]
) RETURNS TABLE (append_ix int, outcome text, last_position bigint)
LANGUAGE plpgsql AS $fn$
DECLARE
  v_count int := coalesce(array_length(p_append, 1), 0);
  v_xid xid8;
  v_positions bigint[];
  v_first int := 1;
  v_last int;
  v_constraint text;
  v_all_ok boolean;
BEGIN
  -- A session-level lock outlives the statement: release it on every error, a cancel or a
  -- statement timeout included (OTHERS alone does not match QUERY_CANCELED), or the pooled
  -- connection would keep it and stall every later append.
  BEGIN
    PERFORM pg_advisory_lock(${n.positionLockKey});
    v_xid := pg_current_xact_id();
    SELECT array_agg(p ORDER BY p) INTO v_positions
      FROM (SELECT nextval('${n.positions}') AS p FROM generate_series(1, v_count)) s;
  EXCEPTION WHEN OTHERS OR QUERY_CANCELED THEN
    PERFORM pg_advisory_unlock(${n.positionLockKey});
    RAISE;
  END;
  PERFORM pg_advisory_unlock(${n.positionLockKey});

  -- The common case, no refusal: all appends in one insert (unnest is linear; subscripting
  -- arrays of variable-length values element by element is not).
  BEGIN
    INSERT INTO ${n.events}
      (global_position, xid, stream, revision, event_id, type, data, metadata, hash, prev_hash, command_id)
    SELECT u.p, v_xid, u.s, u.r, u.e, u.t, u.d, u.m, u.h, u.ph, u.c
      FROM unnest(v_positions, p_stream, p_revision, p_event_id, p_type, p_data, p_metadata,
                  p_hash, p_prev_hash, p_command_id) AS u(p, s, r, e, t, d, m, h, ph, c);
    v_all_ok := true;
  EXCEPTION WHEN unique_violation THEN
    v_all_ok := false;
  END;
  IF v_all_ok THEN
    RETURN QUERY SELECT u.a, 'ok'::text, max(u.p)
      FROM unnest(p_append, v_positions) AS u(a, p) GROUP BY u.a;
  ELSE
    -- Some append is refused: again, each append in a savepoint of its own.
    WHILE v_first <= v_count LOOP
      v_last := v_first;
      WHILE v_last < v_count AND p_append[v_last + 1] = p_append[v_first] LOOP
        v_last := v_last + 1;
      END LOOP;
      append_ix := p_append[v_first];
      BEGIN
        INSERT INTO ${n.events}
          (global_position, xid, stream, revision, event_id, type, data, metadata, hash, prev_hash, command_id)
        SELECT u.p, v_xid, u.s, u.r, u.e, u.t, u.d, u.m, u.h, u.ph, u.c
          FROM unnest(v_positions[v_first:v_last], p_stream[v_first:v_last],
                      p_revision[v_first:v_last], p_event_id[v_first:v_last],
                      p_type[v_first:v_last], p_data[v_first:v_last],
                      p_metadata[v_first:v_last], p_hash[v_first:v_last],
                      p_prev_hash[v_first:v_last], p_command_id[v_first:v_last])
               AS u(p, s, r, e, t, d, m, h, ph, c);
        outcome := 'ok';
        last_position := v_positions[v_last];
      EXCEPTION WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
        outcome := coalesce(v_constraint, 'unique_violation');
        last_position := NULL;
      END;
      RETURN NEXT;
      v_first := v_last + 1;
    END LOOP;
  END IF;
END
$fn$;`;
}

/**
 * The whole migration, idempotent: every statement is IF NOT EXISTS or OR REPLACE. Callers run
 * it in one transaction under an advisory lock so that stores opening at once do not race on
 * the catalog.
 */
export function postgresMigrationSql(n: PostgresNames): string {
  return `${tableSql(n)}\n${appendBatchSql(n)}`;
}

/** Unique constraint names the batch function reports as outcomes. */
export const PostgresConstraint = {
  streamRevision: 'events_stream_revision_key',
  eventId: 'events_event_id_key',
} as const;
