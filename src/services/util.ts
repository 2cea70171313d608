/** Thrown (internally) when an operation exceeds its time budget. */
export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * Runs `fn` with an AbortSignal that fires after `ms`; rejects with TimeoutError at the deadline even
 * if `fn` ignores the signal. The timer never keeps the process alive.
 */
export async function withTimeout<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort(new TimeoutError(ms));
      reject(new TimeoutError(ms));
    }, ms);
    timer.unref();
  });
  try {
    const work = fn(ac.signal);
    work.catch(() => undefined); // a late rejection after the deadline must not be unhandled
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Maps over items with at most `limit` promises in flight; results keep the input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
