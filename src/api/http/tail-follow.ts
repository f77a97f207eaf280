// `GET /servers/:httpdid/tail`: a server's requests as they are answered (with their console lines) and its other console lines, filtered, as NDJSON until the client goes, the server is deleted or the service stops (the last line says which).

import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ServerManager } from '../control/server-manager.js';
import { tailFilter, type TailQuery } from '../control/tail-filter.js';
import type { Caller } from './auth.js';
import { ConsoleStream, streamSender } from './logs-follow.js';

/** Answers a request with one server's tail (bound to an app and its manager). @throws IsoError 400 (filters), 404. */
export type FollowTail = (caller: Caller, httpdid: number, query: TailQuery, reply: FastifyReply) => void;

/**
 * Returns the handler of `/tail`. The same back-pressure as `logs?follow=1`: at most
 * FOLLOW_QUEUE_BYTES queued for a slow reader, then lines are dropped and a `{"dropped": N}` line
 * says how many; an empty line every FOLLOW_KEEPALIVE_MS idle.
 */
export function tailFollowing(app: FastifyInstance, manager: ServerManager): FollowTail {
  const send = streamSender(app);
  return (caller, httpdid, query, reply) => {
    const shown = tailFilter(query);
    const stream = new ConsoleStream();
    let following: ReturnType<ServerManager['followTail']>;
    try {
      following = manager.followTail(caller, httpdid, {
        entry: (e) => {
          if (shown(e)) stream.add(e);
        },
        dropped: (n) => stream.countDropped(n),
        end: (why) => stream.finish(why),
      });
    } catch (err) {
      stream.destroy();
      throw err;
    }
    // The head goes once every worker tails the server: a request sent after it is in the tail.
    send(stream, following.stop, reply, following.ready);
  };
}
