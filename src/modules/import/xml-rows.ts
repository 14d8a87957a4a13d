import { createReadStream } from 'node:fs';
import sax from 'sax';

export type RowAttributes = Record<string, string>;

/**
 * Streams the `<row .../>` elements of a data-dump file in batches. The parser is fed one chunk at
 * a time and batches are awaited in between, so memory stays bounded by the batch size however
 * large the file is, and database writes apply back-pressure to reading.
 */
export async function forEachRowBatch(
  file: string,
  batchSize: number,
  onBatch: (rows: RowAttributes[]) => Promise<void>,
): Promise<number> {
  const parser = sax.parser(true, { trim: false, normalize: false });
  let pending: RowAttributes[] = [];
  let total = 0;
  let failure: Error | undefined;
  parser.onopentag = (node) => {
    if (node.name !== 'row') return;
    pending.push(node.attributes as RowAttributes);
  };
  parser.onerror = (err) => {
    failure = err;
  };
  const flush = async () => {
    const batch = pending;
    pending = [];
    total += batch.length;
    if (batch.length) await onBatch(batch);
  };
  let first = true;
  for await (const chunk of createReadStream(file, { encoding: 'utf8' })) {
    // The dumps start with a byte-order mark, which strict mode rejects as text before the root.
    parser.write(first ? (chunk as string).replace(/^\uFEFF/, '') : (chunk as string));
    first = false;
    if (failure) throw new Error(`${file}: ${failure.message}`);
    if (pending.length >= batchSize) await flush();
  }
  parser.close();
  if (failure) throw new Error(`${file}: ${failure.message}`);
  await flush();
  return total;
}
