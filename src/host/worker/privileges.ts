// Drops a sandbox worker started as root to an unprivileged user (nobody) before it runs tenant code.

import { readFileSync } from 'node:fs';

/** Unprivileged accounts tried in order. */
const CANDIDATES = ['isohttpd', 'nobody'];

/** Looks a user up in /etc/passwd: `{uid, gid}` or null. */
function lookup(name: string): { uid: number; gid: number } | null {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return null;
  }
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f[2] !== undefined && f[3] !== undefined) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return null;
}

/**
 * When running as root, switches to the first existing unprivileged user (supplementary groups
 * cleared, gid before uid). Returns the uid the process runs as afterwards. Not reversible.
 */
export function dropPrivileges(): { uid: number } {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { uid: process.getuid?.() ?? -1 };
  for (const name of CANDIDATES) {
    const u = lookup(name);
    if (u === null || u.uid === 0) continue;
    process.setgroups?.([]);
    process.setgid?.(u.gid);
    process.setuid?.(u.uid);
    return { uid: process.getuid() };
  }
  return { uid: 0 };
}
