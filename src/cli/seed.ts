import type { AppContext } from '../context/app-context';
import { services } from '../context/services';
import { inTransaction } from '../shared/db/unit-of-work';
import type { Viewer } from '../modules/users/user.service';

/** Demo accounts all use this password; the README lists them. */
export const DEMO_PASSWORD = 'colloquy-demo';

const PEOPLE = [
  { handle: 'ada', displayName: 'Ada Lovelace', role: 'ADMIN' as const },
  { handle: 'grace', displayName: 'Grace Hopper', role: 'MODERATOR' as const },
  { handle: 'linus', displayName: 'Linus T.', role: 'MEMBER' as const },
  { handle: 'margaret', displayName: 'Margaret Hamilton', role: 'MEMBER' as const },
  { handle: 'ken', displayName: 'Ken T.', role: 'MEMBER' as const },
];

const QUESTIONS = [
  {
    by: 'linus', tags: ['typescript', 'generics'],
    title: 'How do I constrain a generic to object keys in TypeScript?',
    body: 'I want `get<T, K>(obj: T, key: K)` to reject keys that are not in `T`. What is the idiomatic constraint?',
    answers: [
      { by: 'margaret', body: 'Use `K extends keyof T`; the return type is then `T[K]`.', accepted: true },
      { by: 'ken', body: 'You can also overload, but `keyof` is simpler and gives better errors.' },
    ],
  },
  {
    by: 'ken', tags: ['postgresql', 'performance'],
    title: 'Why is my PostgreSQL query not using the index?',
    body: 'A query on `lower(email)` does a sequential scan even though `email` is indexed. Why?',
    answers: [
      { by: 'grace', body: 'The index is on `email`, not `lower(email)`: create an expression index `ON users (lower(email))`.', accepted: true },
    ],
  },
  {
    by: 'margaret', tags: ['graphql', 'performance'],
    title: 'How do I avoid N+1 queries in GraphQL resolvers?',
    body: 'Each post in my list loads its author separately. How do I batch these lookups?',
    answers: [
      { by: 'linus', body: 'Create a DataLoader per request and call `load(id)` in the field resolver; it batches the ids of one tick into one query.' },
      { by: 'ada', body: 'And keep the loaders per request, so caches never leak between users.' },
    ],
  },
];

const ARTICLES = [
  { by: 'grace', kind: 'ARTICLE' as const, tags: ['rust', 'concurrency'], title: 'Fearless concurrency, in practice', body: 'Ownership rules make data races compile errors. Here is what that means for a worker pool…' },
  { by: 'ada', kind: 'DISCUSSION' as const, tags: ['community'], title: 'What makes a good first question?', body: 'Share what you think helps newcomers get great answers.' },
];

/** Generates a small community when the database has no users; returns what it created, or null. */
export async function seedDemoCommunity(app: Pick<AppContext, 'db' | 'pubSub'>): Promise<Record<string, number> | null> {
  return inTransaction(app.db, async (uow) => {
    const s = services(uow, app.pubSub.pubSub);
    if ((await s.users.count()) > 0) return null;
    const viewers = new Map<string, Viewer>();
    for (const p of PEOPLE) {
      const u = await s.users.create({ ...p, password: DEMO_PASSWORD, email: `${p.handle}@demo.colloquy.dev` });
      viewers.set(p.handle, { id: u.id, role: u.role, handle: u.handle });
    }
    const as = (h: string) => viewers.get(h)!;
    const counts = { users: PEOPLE.length, posts: 0, votes: 0, follows: 0 };
    const members = [...viewers.values()];

    for (const q of QUESTIONS) {
      const question = await s.posts.create({ kind: 'QUESTION', title: q.title, body: q.body, tags: q.tags }, as(q.by));
      counts.posts++;
      for (const a of q.answers) {
        const answer = await s.posts.create({ kind: 'ANSWER', body: a.body, parentId: question.id }, as(a.by));
        counts.posts++;
        for (const voter of members.filter((m) => m.handle !== a.by).slice(0, a.accepted ? 3 : 1)) {
          await s.social.vote(answer.id, 'UP', voter);
          counts.votes++;
        }
        if (a.accepted) await s.posts.acceptAnswer(answer.id, as(q.by));
      }
      await s.posts.create({ kind: 'COMMENT', body: 'Thanks, this helped me too.', parentId: question.id }, as('ada'));
      await s.social.vote(question.id, 'UP', as(q.by === 'ada' ? 'grace' : 'ada'));
      counts.posts++;
      counts.votes++;
    }
    for (const a of ARTICLES) {
      const post = await s.posts.create({ kind: a.kind, title: a.title, body: a.body, tags: a.tags }, as(a.by));
      await s.social.bookmark(post.id, true, as('linus'));
      counts.posts++;
    }
    for (const [follower, followee] of [['linus', 'grace'], ['ken', 'grace'], ['margaret', 'ada'], ['linus', 'margaret']]) {
      await s.social.followUser(as(followee).id, true, as(follower));
      counts.follows++;
    }
    const [ts] = await s.tags.ensure(['typescript']);
    await s.social.followTag(ts.id, true, as('ken'));
    counts.follows++;
    return counts;
  });
}
