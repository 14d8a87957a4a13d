import type { EntityManager } from 'typeorm';
import { badInput } from '../../shared/errors';
import { DEFAULT_POLICY, type Policy, checkPolicy } from './policy';

export async function loadPolicy(m: EntityManager): Promise<Policy> {
  const [row]: Array<{ policy: Policy }> = await m.query(`SELECT policy FROM moderation_policy`);
  return row ? { ...DEFAULT_POLICY, ...row.policy } : DEFAULT_POLICY;
}

export async function savePolicy(m: EntityManager, policy: Policy, adminId: number): Promise<Policy> {
  const problem = checkPolicy(policy);
  if (problem) throw badInput(problem, 'policy');
  await m.query(
    `INSERT INTO moderation_policy (id, policy, updated_by) VALUES (true, $1, $2)
     ON CONFLICT (id) DO UPDATE SET policy = EXCLUDED.policy, updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [JSON.stringify(policy), adminId],
  );
  return policy;
}
