import type { EntityManager } from 'typeorm';
import type { UnitOfWork } from '../../shared/db/unit-of-work';
import { rawHydrator } from '../../shared/db/hydrate';
import { rawManyPrepared } from '../../shared/db/prepared';
import { badInput, forbidden, notFound, unauthenticated } from '../../shared/errors';
import { type AppPubSub, TOPIC } from '../../shared/pubsub';
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
  constructor(
    private readonly uow: UnitOfWork,
    private readonly pubSub: AppPubSub,
  ) {}

  private get db(): EntityManager {
    return this.uow.manager;
  }

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

  /**
   * The user loader's batch, and every authenticated request's viewer: a prepared statement. One
   * id is asked for as `id = $1`: PostgreSQL never settles on a generic plan for `= ANY($1)` (a
   * custom plan for a one-element array always looks cheaper), so that form was planned again on
   * every request, several times what the lookup itself costs.
   */
  async byIds(ids: readonly number[]): Promise<UserEntity[]> {
    const user = rawHydrator<UserEntity>(this.repo.metadata, 'u');
    const qb = this.repo.createQueryBuilder('u');
    if (ids.length === 1) qb.where('u.id = :id', { id: ids[0] });
    else qb.where('u.id = ANY(:ids)', { ids });
    return (await rawManyPrepared(this.db, qb)).map(user);
  }

  async byHandle(handle: string): Promise<UserEntity> {
    const user = await this.repo.createQueryBuilder('u').where('lower(u.handle) = lower(:handle)', { handle }).getOne();
    if (!user) throw notFound(`User @${handle}`);
    return user;
  }

  /** Open subscriptions of the user re-check their access once the change commits. */
  async setRole(handle: string, role: Role): Promise<UserEntity> {
    if (!ROLES.includes(role)) throw badInput(`Unknown role ${role}`, 'role');
    const user = await this.byHandle(handle);
    user.role = role;
    const saved = await this.repo.save(user);
    this.uow.afterCommit(() => this.pubSub.publish(TOPIC.USER_CHANGED, { userId: user.id }));
    return saved;
  }

  async setRoleById(userId: number, role: Role, viewer: Viewer | null): Promise<UserEntity> {
    if (!viewer) throw unauthenticated();
    if (viewer.role !== 'ADMIN') throw forbidden('Only admins change roles');
    const [user] = await this.byIds([userId]);
    if (!user) throw notFound('User');
    return this.setRole(user.handle, role);
  }

  async count(): Promise<number> {
    return this.repo.count();
  }
}
