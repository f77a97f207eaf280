-- 004: server_versions, the versions of each server kept for `versions` and `rollback` (the last few, by the versionsKept quota); each existing server's current version is its first kept one.
CREATE TABLE server_versions (
  httpdid INTEGER NOT NULL,
  version INTEGER NOT NULL,
  source TEXT NOT NULL,
  limits TEXT NOT NULL,
  expose_errors INTEGER NOT NULL CHECK (expose_errors IN (0, 1)),
  created_at TEXT NOT NULL,
  PRIMARY KEY (httpdid, version)
) STRICT;
INSERT INTO server_versions (httpdid, version, source, limits, expose_errors, created_at)
  SELECT httpdid, version, source, limits, expose_errors, updated_at FROM servers;
