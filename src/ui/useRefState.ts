import { useReducer, useRef } from 'react';

/**
 * State that input handlers read synchronously. Keys typed faster than React re-renders (a
 * paste, tmux send-keys, a quick "r" then "y") must see the state the previous key set; plain
 * useState would hand them a stale closure and drop the key.
 */
export function useRefState<T>(initial: T): [() => T, (v: T) => void] {
  const ref = useRef(initial);
  const [, bump] = useReducer((x: number) => x + 1, 0);
  return [
    () => ref.current,
    (v: T) => {
      ref.current = v;
      bump();
    },
  ];
}
