/**
 * JSON text the fuzz mutations build: values that `JSON.stringify` cannot write (a number of
 * 400 digits, `1e400`, a key twice) are carried as `RawJson` / `DupObject` and written by
 * `writeJson` as they are.
 */

/** Text written into the JSON as it is. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An object written with its entries in this order, a key possibly more than once. */
export class DupObject {
  constructor(readonly entries: readonly (readonly [string, unknown])[]) {}
}

export function writeJson(v: unknown): string {
  if (v instanceof RawJson) return v.text;
  if (v instanceof DupObject) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${writeJson(x)}`).join(",")}}`;
  if (Array.isArray(v)) return `[${v.map(writeJson).join(",")}]`;
  if (typeof v === "object" && v !== null) {
    const parts: string[] = [];
    for (const k of Object.keys(v)) parts.push(`${JSON.stringify(k)}:${writeJson((v as Record<string, unknown>)[k])}`);
    return `{${parts.join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** A place in a parsed JSON tree: the container and the key or index of the value in it. */
export interface Slot {
  readonly parent: Record<string, unknown> | unknown[];
  readonly key: string | number;
}

/** Every slot of the tree, breadth first, at most `max` of them. */
export function slotsOf(root: unknown, max: number): Slot[] {
  const out: Slot[] = [];
  const queue: unknown[] = [root];
  for (let q = 0; q < queue.length && out.length < max; q++) {
    const node = queue[q];
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length && out.length < max; i++) {
        out.push({ parent: node, key: i });
        queue.push(node[i]);
      }
    } else if (typeof node === "object" && node !== null) {
      const o = node as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        if (out.length >= max) break;
        out.push({ parent: o, key: k });
        queue.push(o[k]);
      }
    }
  }
  return out;
}

export function slotValue(s: Slot): unknown {
  return Array.isArray(s.parent) ? s.parent[s.key as number] : (s.parent as Record<string, unknown>)[s.key as string];
}

export function setSlot(s: Slot, v: unknown): void {
  if (Array.isArray(s.parent)) s.parent[s.key as number] = v;
  else (s.parent as Record<string, unknown>)[s.key as string] = v;
}

/** A deep copy of parsed JSON (plain values only). */
export function cloneJson<T>(v: T): T {
  return structuredClone(v);
}
