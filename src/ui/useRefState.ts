import { useReducer, useRef } from 'react';

/**
 * State that input handlers read synchronously. Keys typed faster than React re-renders (a
 * paste, tmux send-keys, a quick "r" then "y") must see the state the previous key set; plain
 * useState would hand them a stale closure and drop the key.
 */
export function useRefState<T>(initial: T | (() => T)): [() => T, (v: T) => void] {
  // A function is called once, at the first render (as useState's initialiser: the console's initial
  // state was built at every frame and thrown away, issue #27). T itself is never a function here.
  const ref = useRef<T | undefined>(undefined);
  const made = useRef(false);
  if (!made.current) {
    made.current = true;
    ref.current = typeof initial === 'function' ? (initial as () => T)() : initial;
  }
  const [, bump] = useReducer((x: number) => x + 1, 0);
  return [
    () => ref.current as T,
    (v: T) => {
      ref.current = v;
      bump();
    },
  ];
}
