import type { EntityManager } from 'typeorm';
import { badInput, notFound, unauthenticated } from '../../shared/errors';
import { hashPassword, verifyPassword } from './auth';
import { ROLES, type Role, UserEntity } from './user.entity';

export interface Viewer {
  id: number;
  role: Role;
  handle: string;
}

export interface SignUpInput {
  handle: string;
  password: string;
  email?: string | null;
  displayName?: string | null;
}

export const HANDLE_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{1,38}$/;
export const MIN_PASSWORD_LENGTH = 8;

export const isStaff = (viewer: Viewer | null | undefined): boolean =>
  viewer?.role === 'MODERATOR' || viewer?.role === 'ADMIN';

export class UserService {
  constructor(private readonly db: EntityManager) {}

  private get repo() {
    return this.db.getRepository(UserEntity);
  }

  async create(input: SignUpInput & { role?: Role }): Promise<UserEntity> {
    const handle = input.handle.trim();
    const email = input.email?.trim() || null;
    if (!HANDLE_PATTERN.test(handle)) {
      throw badInput('Handle must be 2–39 letters, digits, "_", "-" or "."', 'handle');
    }
    if (input.password.length < MIN_PASSWORD_LENGTH) {
      throw badInput(`Password must be at least ${MIN_PASSWORD_LENGTH} characters`, 'password');
    }
    if (input.role && !ROLES.includes(input.role)) throw badInput(`Unknown role ${input.role}`, 'role');
    const taken = await this.repo
      .createQueryBuilder('u')
      .where('lower(u.handle) = lower(:handle)', { handle })
      .orWhere('lower(u.email) = lower(:email)', { email })
      .getOne();
    if (taken) {
      const field = taken.handle.toLowerCase() === handle.toLowerCase() ? 'handle' : 'email';
      throw badInput(`That ${field} is already taken`, field);
    }
    const user = this.repo.create({
      handle,
      email,
      displayName: input.displayName?.trim() || handle,
      passwordHash: await hashPassword(input.password),
      role: input.role ?? 'MEMBER',
    });
    return this.repo.save(user);
  }

  /** Same error for an unknown handle and a wrong password, so logIn does not reveal which handles exist. */
  async authenticate(handleOrEmail: string, password: string): Promise<UserEntity> {
    const user = await this.repo
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('lower(u.handle) = lower(:h) OR lower(u.email) = lower(:h)', { h: handleOrEmail.trim() })
      .getOne();
    const ok = user?.passwordHash ? await verifyPassword(user.passwordHash, password) : false;
    if (!user || !ok) throw unauthenticated('Wrong handle or password');
    return user;
  }

  byIds(ids: readonly number[]): Promise<UserEntity[]> {
    return this.repo.createQueryBuilder('u').where('u.id = ANY(:ids)', { ids }).getMany();
  }

  async byHandle(handle: string): Promise<UserEntity> {
    const user = await this.repo.createQueryBuilder('u').where('lower(u.handle) = lower(:handle)', { handle }).getOne();
    if (!user) throw notFound(`User @${handle}`);
    return user;
  }

  async setRole(handle: string, role: Role): Promise<UserEntity> {
    const user = await this.byHandle(handle);
    user.role = role;
    return this.repo.save(user);
  }

  async count(): Promise<number> {
    return this.repo.count();
  }
}
