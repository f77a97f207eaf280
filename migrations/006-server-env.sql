-- 006: a server's environment. servers.vars and server_versions.vars: its plain variables (a JSON object of strings), part of each version; server_secrets: its secrets, each sealed (AES-256-GCM, src/api/control/secret-box.ts), not part of versions, deleted with the server.
ALTER TABLE servers ADD COLUMN vars TEXT NOT NULL DEFAULT '{}';
ALTER TABLE server_versions ADD COLUMN vars TEXT NOT NULL DEFAULT '{}';
CREATE TABLE server_secrets (
  httpdid INTEGER NOT NULL,
  name TEXT NOT NULL,
  sealed TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (httpdid, name)
) STRICT;
