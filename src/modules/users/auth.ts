import { hash, verify } from '@node-rs/argon2';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { DomainError, unauthenticated } from '../../shared/errors';
import type { Role } from './user.entity';

/** Argon2id (OWASP's first choice) via a maintained native binding; defaults follow its guidance. */
export const hashPassword = (password: string): Promise<string> => hash(password);
export const verifyPassword = (stored: string, password: string): Promise<boolean> =>
  verify(stored, password).catch(() => false);

export interface TokenClaims {
  userId: number;
  role: Role;
  expiresAt: Date;
}

/** HS256 JWTs signed with jose. The role in a token is advisory: requests re-read the user's role. */
export class TokenService {
  private readonly key: Uint8Array;

  constructor(secret: string, private readonly ttlSeconds: number) {
    this.key = new TextEncoder().encode(secret);
  }

  async issue(userId: number, role: Role): Promise<string> {
    return new SignJWT({ role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(userId))
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + this.ttlSeconds)
      .setIssuer('colloquy')
      .sign(this.key);
  }

  async verify(token: string): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: 'colloquy', algorithms: ['HS256'] });
      const userId = Number(payload.sub);
      if (!Number.isSafeInteger(userId) || !payload.exp) throw unauthenticated('Invalid token');
      return { userId, role: payload.role as Role, expiresAt: new Date(payload.exp * 1000) };
    } catch (err) {
      if (err instanceof DomainError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw unauthenticated('Token has expired; log in again');
      throw unauthenticated('Invalid token');
    }
  }
}

/** Accepts `Bearer <token>` or a bare token; returns undefined when there is none. */
export function bearerToken(header: string | undefined | null): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return m ? m[1] : header.trim() || undefined;
}
