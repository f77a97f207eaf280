// The tenant's `console`: each method turns its arguments into one line of text kept in a bounded buffer (tagged with the request whose handler wrote it, when one runs synchronously), which the bootstrap drains after every call into the isolate.
// @ts-check

import { MAX_LINE_CHARS, MAX_PENDING_LINES } from 'isohttpd:constants';

/** @typedef {[level: string, text: string] | [level: string, text: string, tag: number]} ConsoleLine */

/** @type {ConsoleLine[]} */
let pending = [];
let dropped = 0;
/** The id (the host's) of the request whose handler runs synchronously now, 0 outside one: each line carries it, so the host ties the line to that request. */
let tag = 0;

/**
 * Sets the request a console line is written under (the bootstrap's, around each handler call).
 * @param {number} id the host's id of the request, 0 for none
 */
export function setConsoleTag(id) {
  tag = id;
}

/**
 * One argument as text: strings as they are, errors by their stack, objects as JSON where they have one.
 * @param {unknown} v
 * @returns {string}
 */
function show(v) {
  if (typeof v === 'string') return v;
  if (v instanceof Error) return String(v.stack || v.name + ': ' + v.message);
  if (typeof v === 'object' && v !== null) {
    try {
      const s = JSON.stringify(v);
      if (s !== undefined) return s;
    } catch (_) {
      /* fall through */
    }
  }
  try {
    return String(v);
  } catch (_) {
    return '[unprintable]';
  }
}

/**
 * A console method for `level`: its line is at most MAX_LINE_CHARS long; past MAX_PENDING_LINES
 * undrained lines the oldest is dropped (and counted).
 * @param {string} level
 * @returns {(...args: unknown[]) => void}
 */
export function logger(level) {
  // A function expression, not an arrow: console methods stay what they have always been (constructible, with a prototype).
  // biome-ignore lint/complexity/useArrowFunction: see above.
  return function (...args) {
    let text = '';
    for (let i = 0; i < args.length && text.length <= MAX_LINE_CHARS; i++) text += (i ? ' ' : '') + show(args[i]);
    if (text.length > MAX_LINE_CHARS) text = text.slice(0, MAX_LINE_CHARS - 3) + '...';
    if (pending.length >= MAX_PENDING_LINES) {
      pending.shift();
      dropped++;
    }
    pending.push(tag === 0 ? [level, text] : [level, text, tag]);
  };
}

/**
 * The lines written since the last drain, oldest first, led by a warning when some were dropped.
 * @returns {ConsoleLine[]}
 */
export function drainLogs() {
  const out = pending;
  if (dropped > 0) out.unshift(['warn', '[isohttpd] ' + dropped + ' console lines dropped (more than ' + MAX_PENDING_LINES + ' in one request)']);
  pending = [];
  dropped = 0;
  return out;
}

/**
 * The frozen `console` object the prelude installs: log, info, warn, error and debug.
 * @returns {Readonly<Record<'log' | 'info' | 'warn' | 'error' | 'debug', (...args: unknown[]) => void>>}
 */
export function createConsole() {
  return Object.freeze({ log: logger('log'), info: logger('info'), warn: logger('warn'), error: logger('error'), debug: logger('debug') });
}
