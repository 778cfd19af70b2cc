import { useCallback, useEffect, useState } from "react";

export interface Loaded<T> {
  /** The last value `fetch` gave, or null until the first answer. */
  data: T | null;
  /** The last call's error, cleared by the next success. */
  error: unknown;
  /** Ask again (after a change the page made); resolves when the answer is in. */
  reload: () => Promise<void>;
}

/**
 * Loads a list or record for a page: once on mount and again whenever `fetch` changes
 * (wrap it in `useCallback` with what it depends on), keeping the last good value.
 */
export function useLoaded<T>(fetch: () => Promise<T>): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);

  const reload = useCallback(async () => {
    try {
      setData(await fetch());
      setError(null);
    } catch (caught) {
      setError(caught);
    }
  }, [fetch]);

  useEffect(() => {
    void reload();
  }, [reload]);

  return { data, error, reload };
}
