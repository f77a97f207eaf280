#!/usr/bin/env node
// The `isohttpd` entry point: refuses a Node.js older than the one isohttpd runs on, in one line, before anything that would fail on it is loaded.

/** The oldest Node.js major version isohttpd runs on (isolated-vm 7 and node:sqlite need it). */
const MIN_NODE_MAJOR = 24;

const major = Number(process.versions.node.split('.')[0]);
if (!(major >= MIN_NODE_MAJOR)) {
  process.stderr.write(
    `isohttpd: needs Node.js ${MIN_NODE_MAJOR} or newer, and this is Node.js ${process.versions.node} (${process.execPath}); ` +
      `run it with \`npm start\` or \`npx isohttpd ...\` in its checkout, which use the Node.js ${MIN_NODE_MAJOR} that \`npm install\` put in node_modules/.bin, or with a Node.js >= ${MIN_NODE_MAJOR}\n`,
  );
  process.exit(2);
}
// Only now: these imports load isolated-vm and node:sqlite, which an older Node cannot.
const { run } = await import('./cli/main.js');
run(process.argv.slice(2));
