/**
 * `Promise.all(items.map(action))` with at most `limit` actions in flight: reading thousands of metadata files at
 * once would exhaust file descriptors (EMFILE) on a default `ulimit -n` of 1024.
 */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  limit: number,
  action: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await action(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
