/**
 * The value kept under `key` in `map`, made by `make` the first time: the one shape of the
 * gateway's memos (by statement tree, view, request or connection).
 */
export function kept<K, V>(map: { get(key: K): V | undefined; set(key: K, value: V): unknown }, key: K, make: () => V): V {
  let value = map.get(key)
  if (value === undefined) map.set(key, (value = make()))
  return value
}
