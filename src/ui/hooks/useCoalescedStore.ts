import { useMemo, useRef, useSyncExternalStore } from 'react';
import type { StoreApi } from 'zustand/vanilla';

/** Whether two slice objects hold the same values, key by key (Object.is), as zustand's `shallow`. */
export function shallowEqual<T extends object>(a: T, b: T): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * A selection of slices of a zustand store (`select` returns an object of them), with the store's
 * notifications coalesced: changes within `ms` draw one frame (the host and Docker sources of one
 * refresh finish ~170 ms apart, and each frame redraws the whole screen). A component renders again
 * only when a slice it selected changed (compared shallowly), not on every change to the store.
 */
export function useCoalescedStore<S, T extends object>(store: StoreApi<S>, select: (s: S) => T, windowMs: number, arrived?: (t: T) => boolean): T {
  // Issue #27: with `arrived`, changes are drawn within FIRST_MS until it first holds (the first full
  // frame must not wait out the window); a frame or two more, once.
  const firstIn = useRef(!arrived);
  const ms = firstIn.current ? windowMs : FIRST_MS;
  const subscribe = useMemo(
    () => (onChange: () => void) => {
      let timer: NodeJS.Timeout | undefined;
      const unsubscribe = store.subscribe(() => {
        timer ??= setTimeout(() => {
          timer = undefined;
          onChange();
        }, ms);
      });
      return () => {
        if (timer) clearTimeout(timer);
        unsubscribe();
      };
    },
    [store, ms],
  );
  // The last selection, handed out again while equal: useSyncExternalStore needs a stable snapshot.
  const last = useRef<T | undefined>(undefined);
  const snapshot = () => {
    const next = select(store.getState());
    if (last.current !== undefined && shallowEqual(last.current, next)) return last.current;
    last.current = next;
    return next;
  };
  const data = useSyncExternalStore(subscribe, snapshot);
  if (!firstIn.current && arrived?.(data)) firstIn.current = true;
  return data;
}

/** The coalescing window until the first data has arrived (issue #27). */
const FIRST_MS = 15;
