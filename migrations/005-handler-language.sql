-- 005: servers.language and server_versions.language, the language of the handler source as the tenant gave it (typescript is stripped of its types before it runs); existing ones are javascript.
ALTER TABLE servers ADD COLUMN language TEXT NOT NULL DEFAULT 'javascript' CHECK (language IN ('javascript', 'typescript'));
ALTER TABLE server_versions ADD COLUMN language TEXT NOT NULL DEFAULT 'javascript' CHECK (language IN ('javascript', 'typescript'));
