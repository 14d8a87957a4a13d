export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __colloquyPg?: { stop(): Promise<void> } }).__colloquyPg?.stop();
}
