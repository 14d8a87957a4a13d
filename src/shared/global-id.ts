import { badInput } from './errors';

/** Opaque global ids (`base64url("Type:id")`), so integrators never depend on our row ids. */
export type NodeType = 'User' | 'Post' | 'Tag' | 'ApiToken';
const TYPES: ReadonlySet<string> = new Set<NodeType>(['User', 'Post', 'Tag', 'ApiToken']);

export function toGlobalId(type: NodeType, id: number): string {
  return Buffer.from(`${type}:${id}`).toString('base64url');
}

export function fromGlobalId(globalId: string): { type: NodeType; id: number } {
  const decoded = Buffer.from(globalId, 'base64url').toString('utf8');
  const sep = decoded.indexOf(':');
  const type = decoded.slice(0, sep);
  const id = Number(decoded.slice(sep + 1));
  if (sep < 0 || !TYPES.has(type) || !Number.isSafeInteger(id) || id <= 0) {
    throw badInput(`"${globalId}" is not a valid id`, 'id');
  }
  return { type: type as NodeType, id };
}

/** Decodes an id that must name a node of one type. */
export function expectGlobalId(globalId: string, type: NodeType): number {
  const parsed = fromGlobalId(globalId);
  if (parsed.type !== type) throw badInput(`"${globalId}" is not a ${type} id`, 'id');
  return parsed.id;
}
