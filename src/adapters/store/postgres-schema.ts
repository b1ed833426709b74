/**
 * Tables and views of the PostgreSQL store. The queue itself lives in pg-boss's own schema
 * (`pgboss`); these hold what pkghunt keeps: one result per job key (the unique constraint is
 * what makes "store and complete" exactly-once), the record as JSONB, and every failed attempt.
 * The views answer the study's questions directly from the records (see README.md).
 */
export const POSTGRES_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS pkghunt_results (
  id            bigserial PRIMARY KEY,
  job_key       text NOT NULL UNIQUE,
  name          text NOT NULL,
  version       text,
  requested     text NOT NULL,
  job_id        uuid,
  worker        text NOT NULL,
  run_id        text NOT NULL,
  install_status text,
  import_status  text,
  finished_at   timestamptz NOT NULL DEFAULT now(),
  record        jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS pkghunt_results_name ON pkghunt_results (name, version);

CREATE TABLE IF NOT EXISTS pkghunt_failures (
  id        bigserial PRIMARY KEY,
  job_key   text NOT NULL,
  job_id    uuid,
  worker    text NOT NULL,
  attempt   integer NOT NULL,
  final     boolean NOT NULL,
  code      text NOT NULL,
  reason    text NOT NULL,
  failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS pkghunt_failures_key ON pkghunt_failures (job_key);

CREATE OR REPLACE VIEW connections_out AS
  SELECT r.name, r.version, p.key AS phase,
         COALESCE(c->>'hostname', c->>'tls_sni', c->'http'->>'host') AS host,
         c->>'ip' AS ip, (c->>'port')::int AS port, c->>'protocol' AS protocol
  FROM pkghunt_results r,
       jsonb_each(r.record->'phases') p,
       jsonb_array_elements(p.value->'connections') c;

CREATE OR REPLACE VIEW dns_lookups AS
  SELECT d->>'name' AS dns_name, count(DISTINCT r.job_key) AS packages
  FROM pkghunt_results r,
       jsonb_each(r.record->'phases') p,
       jsonb_array_elements(p.value->'dns') d
  GROUP BY 1;

CREATE OR REPLACE VIEW commands_run AS
  SELECT r.name, r.version, p.key AS phase, cmd->'argv' AS argv
  FROM pkghunt_results r,
       jsonb_each(r.record->'phases') p,
       jsonb_array_elements(p.value->'commands') cmd;
`;
