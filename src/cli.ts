#!/usr/bin/env node
// The `isohttpd` command: `isohttpd serve` starts the control process (API + tenant listeners) and its sandbox worker; the client commands are in cli/.

import path from 'node:path';
import { buildApp } from './api/app.js';
import { ServerManager } from './api/server-manager.js';
import { CLIENT_COMMANDS, CLIENT_USAGE, runClientCommand } from './cli/commands.js';
import { ConfigError, loadConfig, type Config } from './config.js';

const USAGE = `usage: isohttpd serve [--api-host H] [--api-port P] [--data-dir D] [--workers N]

  --api-host H   address of the control API (env ISOHTTPD_API_HOST, default 127.0.0.1)
  --api-port P   port of the control API, 0 for any free one (env ISOHTTPD_API_PORT, default 7070)
  --data-dir D   state directory (env ISOHTTPD_DATA_DIR, default ./data)
  --workers N    sandbox worker processes (env ISOHTTPD_WORKERS, default one per CPU)
`;

/** API request bodies may exceed the source limit by this much (JSON quoting and the other fields), bytes. */
const BODY_OVERHEAD = 64 * 1024;

async function serve(config: Config): Promise<void> {
  const logger = { level: process.env['ISOHTTPD_LOG_LEVEL'] ?? 'info' };
  const dataDir = path.resolve(config.dataDir);
  let app: ReturnType<typeof buildApp> | undefined;
  const manager = await ServerManager.start({
    dataDir,
    maxSourceBytes: config.maxSourceBytes,
    workers: config.workers,
    policy: { allowedHosts: config.allowedHosts, portMin: config.portMin, portMax: config.portMax, apiAddress: config.apiHost, apiPort: config.apiPort },
    log: {
      info: (o, m) => app?.log.info(o, m),
      warn: (o, m) => app?.log.warn(o, m),
      error: (o, m) => app?.log.error(o, m),
    },
  });
  // JSON-quoting can grow a source up to six-fold (\u00XX escapes); the source limit itself is checked on the decoded string.
  app = buildApp({ manager, bodyLimit: config.maxSourceBytes * 6 + BODY_OVERHEAD, logger });
  try {
    await app.listen({ host: config.apiHost, port: config.apiPort });
  } catch (err) {
    await manager.close();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : config.apiPort;
  manager.setApiAddress(config.apiHost, port);
  const host = config.apiHost.includes(':') ? `[${config.apiHost}]` : config.apiHost;
  const url = `http://${host}:${port}`;
  process.stdout.write(`isohttpd API listening on ${url} (data dir ${dataDir}, ${config.workers} sandbox workers)\n` +
    `try: curl -s ${url}/servers -H 'content-type: application/json' -d "$(node -e 'console.log(JSON.stringify({host: "127.0.0.1", port: 8080, source: require("fs").readFileSync("examples/hello.js", "utf8")}))')" && curl -s http://127.0.0.1:8080/\n`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    app?.log.info({ signal }, 'stopping');
    void (async () => {
      await app?.close();
      await manager.close();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE + CLIENT_USAGE);
    return command === undefined ? 2 : 0;
  }
  if (CLIENT_COMMANDS.has(command)) return runClientCommand(argv);
  if (command !== 'serve') {
    process.stderr.write(`isohttpd: unknown command ${JSON.stringify(command)}\n${USAGE}${CLIENT_USAGE}`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig(rest, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`isohttpd: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  await serve(config);
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => { if (code >= 0) process.exit(code); },
  (err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`isohttpd: ${e.code === 'EADDRINUSE' ? `the API address is already in use (${e.message})` : e.message}\n`);
    process.exit(1);
  },
);
