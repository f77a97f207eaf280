-- PostgreSQL 001: the schema of SQLite's migrations 001 to 008 in one step (src/api/registry/postgres.ts applies it). JSON columns are text (the same bytes as SQLite stores, key order kept); times are ISO 8601 text written by the service, as in SQLite.
CREATE TABLE tenants (
  name text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  created_at text NOT NULL,
  max_servers integer,
  max_source_bytes integer,
  memory_mb integer
);

-- httpdids come from this sequence: nextval is atomic across every connection and node, never
-- rolled back, so no httpdid is handed out twice (a crash may leave a gap).
CREATE SEQUENCE httpdid_sequence AS integer START WITH 1 MINVALUE 1 CACHE 1;

CREATE TABLE servers (
  httpdid integer PRIMARY KEY,
  tenant text NOT NULL,
  name text CHECK (name IS NULL OR (length(name) BETWEEN 1 AND 63)),
  host text NOT NULL,
  port integer NOT NULL,
  hostnames text NOT NULL DEFAULT '[]',
  source text NOT NULL,
  language text NOT NULL DEFAULT 'javascript' CHECK (language IN ('javascript', 'typescript')),
  limits text NOT NULL,
  expose_errors boolean NOT NULL DEFAULT false,
  vars text NOT NULL DEFAULT '{}',
  egress text,
  replicas integer NOT NULL,
  state text NOT NULL CHECK (state IN ('running', 'failed')),
  reason text,
  version integer NOT NULL DEFAULT 1,
  created_at text NOT NULL,
  updated_at text NOT NULL
);
CREATE INDEX servers_by_tenant ON servers (tenant);
-- A name is unique per tenant: the database refuses a second one, whichever node asks.
CREATE UNIQUE INDEX servers_tenant_name ON servers (tenant, name) WHERE name IS NOT NULL;

CREATE TABLE server_versions (
  httpdid integer NOT NULL REFERENCES servers (httpdid) ON DELETE CASCADE,
  version integer NOT NULL,
  source text NOT NULL,
  language text NOT NULL DEFAULT 'javascript' CHECK (language IN ('javascript', 'typescript')),
  limits text NOT NULL,
  expose_errors boolean NOT NULL,
  vars text NOT NULL DEFAULT '{}',
  egress text,
  created_at text NOT NULL,
  PRIMARY KEY (httpdid, version)
);

CREATE TABLE server_secrets (
  httpdid integer NOT NULL REFERENCES servers (httpdid) ON DELETE CASCADE,
  name text NOT NULL,
  sealed text NOT NULL,
  updated_at text NOT NULL,
  PRIMARY KEY (httpdid, name)
);
