/**
 * Implicit user–item interactions as a compressed sparse row matrix (users × items, binary), read
 * from and written to the LightGCN text format: one line per user, `user item item …`, 0-based ids.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface Interactions {
  numUsers: number;
  numItems: number;
  /** Row pointers (length numUsers + 1): user u's items are indices[indptr[u] .. indptr[u + 1]). */
  indptr: Int32Array;
  /** Item ids, ascending and distinct within each user. */
  indices: Int32Array;
}

/** Builds the matrix from per-user item lists; duplicates are dropped and ids sorted. */
export function fromLists(lists: ArrayLike<ArrayLike<number>>, numItems?: number): Interactions {
  const numUsers = lists.length;
  const indptr = new Int32Array(numUsers + 1);
  const rows: Int32Array[] = [];
  let maxItem = -1;
  for (let u = 0; u < numUsers; u++) {
    const row = Int32Array.from(new Set(Array.from(lists[u] ?? []))).sort();
    for (let k = 0; k < row.length; k++) {
      if (!Number.isInteger(row[k]) || row[k] < 0) throw new Error(`user ${u}: invalid item id ${row[k]}`);
    }
    if (row.length) maxItem = Math.max(maxItem, row[row.length - 1]);
    rows.push(row);
    indptr[u + 1] = indptr[u] + row.length;
  }
  const n = numItems ?? maxItem + 1;
  if (maxItem >= n) throw new Error(`item id ${maxItem} is out of range for ${n} items`);
  const indices = new Int32Array(indptr[numUsers]);
  rows.forEach((row, u) => indices.set(row, indptr[u]));
  return { numUsers, numItems: n, indptr, indices };
}

export function itemsOf(x: Interactions, u: number): Int32Array {
  return u < x.numUsers ? x.indices.subarray(x.indptr[u], x.indptr[u + 1]) : new Int32Array(0);
}

export function nnz(x: Interactions): number {
  return x.indptr[x.numUsers];
}

/** The same graph by item: item i's users are users[ptr[i] .. ptr[i + 1]). */
export function byItem(x: Interactions): { ptr: Int32Array; users: Int32Array } {
  const ptr = new Int32Array(x.numItems + 1);
  for (let k = 0; k < x.indices.length; k++) ptr[x.indices[k] + 1]++;
  for (let i = 0; i < x.numItems; i++) ptr[i + 1] += ptr[i];
  const fill = ptr.slice(0, x.numItems);
  const users = new Int32Array(x.indices.length);
  for (let u = 0; u < x.numUsers; u++) {
    for (let k = x.indptr[u]; k < x.indptr[u + 1]; k++) users[fill[x.indices[k]]++] = u;
  }
  return { ptr, users };
}

export function itemDegrees(x: Interactions): Int32Array {
  const d = new Int32Array(x.numItems);
  for (let k = 0; k < x.indices.length; k++) d[x.indices[k]]++;
  return d;
}

/** Parses LightGCN-format text; line n need not describe user n, the first number names the user. */
export function parseLightGCN(text: string): number[][] {
  const lists: number[][] = [];
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    const t = line.trim();
    if (!t) continue;
    const nums = t.split(/\s+/).map(Number);
    if (nums.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`line ${lineNo}: expected non-negative integer ids`);
    const [u, ...items] = nums;
    (lists[u] ??= []).push(...items);
  }
  for (let u = 0; u < lists.length; u++) lists[u] ??= [];
  return lists;
}

export function readLightGCN(path: string): number[][] {
  return parseLightGCN(readFileSync(path, 'utf8'));
}

/** Writes one line per user that has at least one item. */
export function writeLightGCN(path: string, x: Interactions): void {
  const lines: string[] = [];
  for (let u = 0; u < x.numUsers; u++) {
    const items = itemsOf(x, u);
    if (items.length) lines.push(`${u} ${Array.from(items).join(' ')}`);
  }
  writeFileSync(path, lines.join('\n') + '\n');
}
