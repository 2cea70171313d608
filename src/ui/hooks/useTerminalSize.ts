import { useStdout } from 'ink';
import { useEffect, useState } from 'react';

/** The terminal's size, read once at the root and again on every resize (docs/STYLE.md §9); `override` pins it (tests). */
export function useTerminalSize(override?: { columns: number; rows: number }): { columns: number; rows: number } {
  const { stdout } = useStdout();
  const read = () => override ?? { columns: stdout.columns || 80, rows: stdout.rows || 24 };
  const [size, setSize] = useState(read);
  useEffect(() => {
    if (override) return;
    const on = () => setSize(read());
    stdout.on('resize', on);
    return () => {
      stdout.off('resize', on);
    };
  }, [stdout, override]);
  return override ?? size;
}
