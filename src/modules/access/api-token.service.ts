import { createHash, randomBytes } from 'node:crypto';
import { type EntityManager, IsNull } from 'typeorm';
import type { UnitOfWork } from '../../shared/db/unit-of-work';
import { badInput, notFound, unauthenticated } from '../../shared/errors';
import { type Page, type PageArgs, paginate } from '../../shared/pagination';
import type { Role } from '../users/user.entity';
import type { Viewer } from '../users/user.service';
import { ApiTokenEntity } from './api-token.entity';
import { type Credential, SCOPES, type Scope, sessionRequired } from './scopes';

/** Recognisable, so secret scanners and people can tell a leaked Colloquy token from other strings. */
export const TOKEN_PREFIX = 'colloquy_pat_';
const MAX_TOKENS_PER_USER = 50;
const MAX_EXPIRY_DAYS = 366;
/** `lastUsedAt` is advisory: writing it on every request would turn every read into a write. */
const LAST_USED_GRANULARITY_S = 60;

/**
 * SHA-256, not a password hash: the secret is 256 random bits, so there is nothing to brute-force
 * and a slow hash (Argon2) would only add milliseconds to every request. A fast, deterministic hash
 * also lets the token be found by an indexed lookup rather than by trying every stored hash. GitHub
 * stores its tokens the same way.
 */
export const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret).digest();

export interface NewApiToken {
  name: string;
  scopes: Scope[];
  expiresInDays?: number | null;
}

export interface TokenIdentity {
  viewer: Viewer;
  credential: Extract<Credential, { kind: 'apiToken' }>;
  expiresAt: Date | null;
}

export class ApiTokenService {
  constructor(private readonly uow: UnitOfWork) {}

  private get db(): EntityManager {
    return this.uow.manager;
  }

  private get repo() {
    return this.db.getRepository(ApiTokenEntity);
  }

  /** Returns the stored token and its secret; the secret is never retrievable again. */
  async create(viewer: Viewer | null, credential: Credential, input: NewApiToken): Promise<{ token: ApiTokenEntity; secret: string }> {
    if (!viewer) throw unauthenticated();
    if (credential.kind === 'apiToken') throw sessionRequired();
    const name = input.name.trim();
    if (!name || name.length > 100) throw badInput('A token needs a name of 1 to 100 characters', 'name');
    const scopes = [...new Set(input.scopes)].filter((s) => SCOPES.includes(s));
    if (!scopes.length) throw badInput('A token needs at least one scope', 'scopes');
    const days = input.expiresInDays;
    if (days != null && (!Number.isInteger(days) || days < 1 || days > MAX_EXPIRY_DAYS)) {
      throw badInput(`\`expiresInDays\` must be between 1 and ${MAX_EXPIRY_DAYS}`, 'expiresInDays');
    }
    const active = await this.repo.count({ where: { userId: viewer.id, revokedAt: IsNull() } });
    if (active >= MAX_TOKENS_PER_USER) throw badInput(`At most ${MAX_TOKENS_PER_USER} tokens per account; revoke one first`, 'name');
    const secret = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const token = await this.repo.save(this.repo.create({
      userId: viewer.id,
      name,
      tokenHash: hashSecret(secret),
      hint: secret.slice(0, TOKEN_PREFIX.length + 4) + '…',
      scopes,
      expiresAt: days != null ? new Date(Date.now() + days * 86_400_000) : null,
    }));
    return { token, secret };
  }

  /** The owner's tokens that are not revoked, newest first (expired ones included: they show why a client fails). */
  list(userId: number, page: PageArgs): Promise<Page<ApiTokenEntity>> {
    const qb = this.repo.createQueryBuilder('t').where('t.user_id = :userId AND t.revoked_at IS NULL', { userId });
    return paginate(qb, { expressions: ['t.id'], values: (t) => [t.id] }, page);
  }

  async ownedBy(id: number, viewer: Viewer | null): Promise<ApiTokenEntity | null> {
    if (!viewer) return null;
    return this.repo.findOne({ where: { id, userId: viewer.id } });
  }

  /** Whether a token still authenticates (for sockets, which authenticated when they opened). */
  async isActive(id: number): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM api_tokens WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`, [id]);
    return rows.length > 0;
  }

  /** Revoking is immediate: the next request with the token is refused. Idempotent. */
  async revoke(id: number, viewer: Viewer | null, credential: Credential): Promise<ApiTokenEntity> {
    if (!viewer) throw unauthenticated();
    if (credential.kind === 'apiToken') throw sessionRequired();
    const token = await this.ownedBy(id, viewer);
    if (!token) throw notFound('API token');
    if (!token.revokedAt) {
      token.revokedAt = new Date();
      await this.repo.update({ id }, { revokedAt: token.revokedAt });
    }
    return token;
  }

  /**
   * The account behind a secret, with the token's scopes. The user row is read in the same query so
   * a changed role or a deleted account takes effect at once.
   */
  async authenticate(secret: string): Promise<TokenIdentity> {
    const rows: Array<{ id: number; scopes: Scope[]; expires_at: Date | null; revoked_at: Date | null; last_used_at: Date | null; user_id: number; role: Role; handle: string }> =
      await this.db.query(
        `SELECT t.id, t.scopes, t.expires_at, t.revoked_at, t.last_used_at, u.id AS user_id, u.role, u.handle
           FROM api_tokens t JOIN users u ON u.id = t.user_id
          WHERE t.token_hash = $1`,
        [hashSecret(secret)],
      );
    const row = rows[0];
    if (!row) throw unauthenticated('Invalid token');
    if (row.revoked_at) throw unauthenticated('This API token has been revoked');
    if (row.expires_at && row.expires_at.getTime() <= Date.now()) throw unauthenticated('This API token has expired; create a new one');
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > LAST_USED_GRANULARITY_S * 1000) {
      await this.db.query(`UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, [row.id]);
    }
    // Without `moderate` a staff account acts as a member, so no staff-only power is reachable
    // through a token that was not granted it, whichever service checks the role.
    const role: Role = row.scopes.includes('moderate') ? row.role : 'MEMBER';
    return {
      viewer: { id: row.user_id, role, handle: row.handle },
      credential: { kind: 'apiToken', tokenId: row.id, scopes: row.scopes },
      expiresAt: row.expires_at,
    };
  }
}
