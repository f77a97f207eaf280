// Every supervision constant in one place: heartbeat, restart back-off, quarantine, start-up retry, drain and IPC timeouts, the idle-CPU watchdog of each sandbox (the control process, the worker and the sandbox read them from here).

/** How often the control process pings each worker (the heartbeat), ms. */
export const HEARTBEAT_INTERVAL_MS = 250;

/**
 * How long a worker may go without answering any heartbeat before it is killed and replaced, ms. Only
 * time the control process itself was running counts: if its own heartbeat timer fired late (the
 * machine is loaded), the lateness is not held against the worker. A slow worker answers late and
 * lives; a blocked one (an event loop that does not come back) does not.
 */
export const HEARTBEAT_DEAD_MS = 3000;

/** Back-off between attempts to replace a worker that keeps dying: the first replacement is immediate, then it starts here and doubles, ms. */
export const RESTART_BACKOFF_MIN_MS = 50;

/** The longest back-off between attempts to replace a worker, ms. */
export const RESTART_BACKOFF_MAX_MS = 5000;

/** A replacement worker still alive after this long resets its slot's back-off, ms. */
export const RESTART_STABLE_MS = 10_000;

/** Crashes of its worker blamed on one server within {@link CRASH_WINDOW_MS} that send it to quarantine (or, in quarantine, to failed), count. */
export const CRASH_LIMIT = 3;

/** The window in which {@link CRASH_LIMIT} crashes are counted, ms. */
export const CRASH_WINDOW_MS = 60_000;

/** How long start-up retries an address still in use (held by the previous instance's exiting workers) before it marks the server failed, ms. */
export const RESTORE_RETRY_MS = 5000;

/** Pause between two such start-up attempts, ms. */
export const RESTORE_RETRY_INTERVAL_MS = 100;

/**
 * After start-up, how often a server whose address was still in use is tried again (it shows
 * `failed` with the reason meanwhile, but stays `running` in the registry), ms.
 */
export const RESTORE_LATER_INTERVAL_MS = 1000;

/** How long a SIGTERM/SIGINT waits for requests in flight on tenant servers (the drain timeout), ms. */
export const DRAIN_TIMEOUT_MS = 10_000;

/** How much longer than the drain timeout the control process waits for a worker's answer to `drain`, ms. */
export const DRAIN_REPLY_SLACK_MS = 2000;

/** How often a draining worker looks whether its requests in flight are done, ms. */
export const DRAIN_POLL_MS = 20;

/** After its last request, how long a draining worker waits for responses still in userland buffers to reach the kernel, ms. */
export const DRAIN_FLUSH_MS = 100;

/** How long an API call that shows counters (`GET /servers`, `/metrics`) waits for each worker's counters before it uses the last heartbeat's, ms. */
export const FRESH_STATS_WAIT_MS = 200;

/** How long a worker may take to answer a control request other than a heartbeat or a drain (a deploy compiles and evaluates a module), ms. */
export const REPLY_TIMEOUT_MS = 30_000;

/**
 * After a catastrophic isolate error, how long a worker serves its other servers while the control
 * process moves them to a fresh worker, before it kills itself anyway (the control process drains
 * and kills it far sooner: a replacement is a warm spare), ms.
 */
export const RETIRE_DEADLINE_MS = 30_000;

/** How long a retired worker may take to finish the requests it has in flight once its servers serve from its replacement, ms. */
export const RETIRE_DRAIN_MS = 10_000;

/** How often each sandbox's idle-CPU watchdog reads its isolate's CPU time (src/sandbox/idle-watchdog.ts), ms. */
export const IDLE_CPU_POLL_MS = 50;

/**
 * CPU time an isolate may use while none of its requests is running (V8 tasks a heap sample lets
 * run: GC steps, and whatever tenant code got queued) before it is disposed and replaced, ms. A
 * leaky bucket: it drains at {@link IDLE_CPU_ALLOWANCE} of wall time, so GC work now and then never adds up to it.
 */
export const IDLE_CPU_BUDGET_MS = 100;

/** Fraction of wall time an isolate may spend on the CPU while idle without filling the watchdog's bucket (0–1). */
export const IDLE_CPU_ALLOWANCE = 0.05;

/** Longest wait for an isolate's heap sample (taken only while none of its requests runs) before the last figure is kept, ms. */
export const HEAP_SAMPLE_TIMEOUT_MS = 500;

/** How often a worker's RSS backstop reads its resident set size far from its budget (src/host/worker/rss-backstop.ts), ms. */
export const RSS_POLL_MS = 100;

/**
 * The shortest period of the RSS backstop's polls, ms: near its budget it polls before a thread
 * filling pages at RSS_GROWTH_PER_CPU_MS_MB per ms could cross the headroom left, never more often
 * than this (a read of the resident set costs 9–95 µs: under 1 % of a core at this period).
 */
export const RSS_MIN_POLL_MS = 10;

/**
 * After the RSS backstop reset the blamed server's isolate and the calls that were running on it
 * returned, how long the worker's resident set may stay over its budget before the worker is
 * retired, ms (a disposed isolate's memory is returned at once: 80 MiB within one poll, measured).
 */
export const RSS_SETTLE_MS = 500;

/**
 * Longest wait for the calls running on an isolate the RSS backstop reset to return, ms. A call
 * inside a non-interruptible built-in (a 512 MiB string flattened) returns only when the built-in
 * does (~1.5 s measured), its memory held until then; isolated-vm gives up on it after 5 s
 * ("Script failed to terminate": a retirement of its own). Past this, the worker is retired.
 */
export const RSS_STOP_WAIT_MS = 6000;

/**
 * Longest the replacement of an isolate disposed under a running call (at a request's deadline, or
 * an RSS reset) waits for that call to return before it serves, ms. A call inside a built-in V8
 * cannot interrupt returns only when the built-in does, its isolate's memory held until then: a
 * server serves on one isolate at a time. isolated-vm gives up on such a call after 5 s ("Script
 * failed to terminate"), which ends the wait too.
 */
export const DISPOSED_CALL_WAIT_MS = 6000;

/** While it waits for a reset isolate to stop, the RSS backstop retires the worker at once if its resident set passes this multiple of the budget (count). */
export const RSS_RUNAWAY_FACTOR = 2;

/** The automatic RSS budget of a worker: its resident set when it became ready plus this, MiB (plus {@link RSS_ISOLATE_FACTOR} × `memoryMb` per isolate). */
export const RSS_BASE_MARGIN_MB = 64;

/**
 * The automatic RSS budget allows this many times `memoryMb` for each isolate a worker hosts: the
 * heap (isolated-vm's documented 2× margin), the same again off the heap (wasm memories, resizable
 * buffers), and slack (count).
 */
export const RSS_ISOLATE_FACTOR = 4;

/** Half-life of the RSS growth the backstop attributes to the servers whose isolates ran while it grew, ms. */
export const RSS_GROWTH_HALF_LIFE_MS = 2000;

/**
 * The most RSS growth the backstop attributes to a server per ms of its isolates' CPU time, MiB:
 * memory becomes resident only as its pages are touched, which costs the toucher CPU time (measured:
 * 80 MiB of ArrayBuffers filled in 46–84 ms, 1–1.7 MiB per ms). Growth beyond what the running
 * isolates could have touched (another server's module evaluation, the worker's own buffers) is
 * attributed to no one.
 */
export const RSS_GROWTH_PER_CPU_MS_MB = 4;

/** The RSS growth attributed to a server (decayed) from which the backstop blames it rather than the server with the largest heap sample, MiB. */
export const RSS_BLAME_MIN_GROWTH_MB = 8;

/**
 * Ready isolates (prelude evaluated, no tenant code) each worker keeps for deploys with its default
 * limits, count (src/sandbox/ready-pool.ts). Two: a burst of deploys takes the second while the first
 * is being replaced; each costs one idle isolate's memory (~2 MB).
 */
export const READY_POOL_SIZE = 2;

/**
 * After a deploy took a ready isolate, how long the pool waits before it makes the next, ms: made at
 * once, it competes for the CPU with the deploy still instantiating (measured on 2 cores: 2.8 → 7.9 ms).
 */
export const READY_REFILL_DELAY_MS = 25;

/** How long after a worker starts its pool first fills, ms: after its start-up and the servers it restores. */
export const READY_POOL_START_MS = 500;

/**
 * Largest semi-space of a worker's own (Node.js) heap, MiB (V8's `--max-semi-space-size`): V8
 * otherwise grows it to tens of MiB under load, and each scavenge of it then stops the worker's
 * main thread (which parses and writes every request) for ~10 ms (p50; measured with --trace-gc
 * under wrk -c50 on 2 cores: 8.5 ms p50, 29 ms max); at 8 MiB they take 1.5 ms p50, 5 ms max,
 * for the same total GC time. Tenant isolates keep isolated-vm's own young-generation size (src/host/worker/young-generation.ts).
 */
export const WORKER_SEMI_SPACE_MB = 8;
