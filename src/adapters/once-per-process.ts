/**
 * Memoises an async check or set-up for the life of the process. A failure is not kept: the next
 * call tries again (the user may have installed what was missing).
 */
export function oncePerProcess<T>(make: () => Promise<T>): () => Promise<T> {
  let cached: Promise<T> | null = null;
  return () => {
    cached ??= make().catch((error: unknown) => {
      cached = null;
      throw error;
    });
    return cached;
  };
}
