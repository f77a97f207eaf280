// Test helper: polls a condition until it holds or a time runs out (the one wait loop the tests share).

/**
 * Resolves true as soon as `cond()` holds, polling every `everyMs` ms, or false once `timeoutMs` ms
 * have passed without it holding (the condition is tried at least once).
 */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  do {
    if (await cond()) return true;
    await new Promise((res) => setTimeout(res, everyMs));
  } while (Date.now() < end);
  return false;
}
