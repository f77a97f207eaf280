-- 002: servers.expose_errors, the per-server `exposeErrors` option (error bodies with the handler's detail); existing servers get the default, false.
ALTER TABLE servers ADD COLUMN expose_errors INTEGER NOT NULL DEFAULT 0 CHECK (expose_errors IN (0, 1));
