// Test helper: polls a condition until it holds or a time runs out (the one wait loop the tests share).

/**
 * Resolves true as soon as `cond()` holds, polling every `everyMs` ms, or false if it still does not
 * hold once `timeoutMs` ms have passed (it is tried once at the start and once after the last wait).
 */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() >= end) return false;
    await new Promise((res) => setTimeout(res, everyMs));
  }
  return true;
}
