-- 001: tenants (token hashes, quota overrides), servers (source, limits, state, version), the httpdid sequence.
CREATE TABLE tenants (
  name TEXT PRIMARY KEY NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  max_servers INTEGER,
  max_source_bytes INTEGER,
  memory_mb INTEGER
) STRICT;

CREATE TABLE servers (
  httpdid INTEGER PRIMARY KEY NOT NULL,
  tenant TEXT NOT NULL,
  host TEXT NOT NULL,
  port INTEGER NOT NULL,
  source TEXT NOT NULL,
  limits TEXT NOT NULL,
  replicas INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('running', 'failed')),
  reason TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX servers_by_tenant ON servers (tenant);

CREATE TABLE httpdid_sequence (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  last INTEGER NOT NULL
) STRICT;
INSERT INTO httpdid_sequence (id, last) VALUES (1, 0);
