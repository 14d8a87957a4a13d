import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { openCliContext, runCli } from './cli-context';
import { exportFeedback } from '../modules/moderation/feedback';
import { services } from '../context/services';
import { inTransaction } from '../shared/db/unit-of-work';
import { DomainError } from '../shared/errors';
import { ROLES, type Role } from '../modules/users/user.entity';

const USAGE = `Usage:
  npm run --silent admin -- create-user --handle H --password P [--role MEMBER|MODERATOR|ADMIN] [--email E]
  npm run --silent admin -- set-role --handle H --role MEMBER|MODERATOR|ADMIN
  npm run --silent admin -- export-feedback      (human moderation decisions as JSON lines, for training)`;

/** Operator commands; they use the same database selection as the server (DATABASE_URL or embedded). */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'export-feedback') {
    const app = await openCliContext();
    try {
      for (const example of await exportFeedback(app.db.manager)) process.stdout.write(JSON.stringify(example) + '\n');
      return 0;
    } finally {
      await app.dispose();
    }
  }
  const { values } = parseArgs({
    args: rest,
    options: { handle: { type: 'string' }, password: { type: 'string' }, role: { type: 'string' }, email: { type: 'string' } },
  });
  const role = (values.role ?? 'MEMBER').toUpperCase() as Role;
  if (!ROLES.includes(role) || !values.handle || (command === 'create-user' && !values.password) || !['create-user', 'set-role'].includes(command ?? '')) {
    console.error(USAGE);
    return 2;
  }
  const app = await openCliContext();
  try {
    const user = await inTransaction(app.db, (uow) => {
      const s = services(uow, app.pubSub.pubSub);
      return command === 'create-user'
        ? s.users.create({ handle: values.handle!, password: values.password!, email: values.email, role })
        : s.users.setRole(values.handle!, role);
    });
    console.log(JSON.stringify({ ok: true, id: user.id, handle: user.handle, role: user.role }));
    return 0;
  } catch (err) {
    if (err instanceof DomainError) {
      console.error(JSON.stringify({ ok: false, code: err.code, message: err.message }));
      return 1;
    }
    throw err;
  } finally {
    await app.dispose();
  }
}

runCli(main);
