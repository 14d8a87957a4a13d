/**
 * Texts the demo accounts post: mostly ordinary technical talk, some spam and some rudeness, so a
 * newcomer watching the moderation console sees every kind of verdict. Written for the demo; the
 * slots vary them enough that the stream does not visibly repeat.
 */

export type Random = () => number;

export const pick = <T>(items: readonly T[], random: Random): T => items[Math.floor(random() * items.length)];

const fill = (template: string, slots: Record<string, string>): string =>
  template.replace(/\{(\w+)\}/g, (_, k: string) => slots[k] ?? k);

const STACKS = [
  { tag: 'typescript', thing: 'a discriminated union', tool: 'tsc' },
  { tag: 'postgresql', thing: 'a partial index', tool: 'EXPLAIN ANALYZE' },
  { tag: 'rust', thing: 'a borrowed slice', tool: 'cargo clippy' },
  { tag: 'graphql', thing: 'a DataLoader', tool: 'the schema linter' },
  { tag: 'docker', thing: 'a multi-stage build', tool: 'docker buildx' },
  { tag: 'python', thing: 'an async generator', tool: 'mypy' },
  { tag: 'kubernetes', thing: 'a readiness probe', tool: 'kubectl describe' },
  { tag: 'react', thing: 'a memoised selector', tool: 'the profiler' },
] as const;

const QUESTION_TITLES = [
  'How do I test {thing} without mocking everything?',
  'Why does {tool} report a warning for {thing}?',
  'Is {thing} worth it for a small {tag} project?',
  'What is the idiomatic way to debug {thing} in {tag}?',
  'How should I structure {thing} so it stays readable?',
];

const QUESTION_BODIES = [
  'I added {thing} last week and now {tool} complains on every build. The docs are vague about it. What am I missing?',
  'Our team keeps arguing about {thing}. Could someone explain the trade-offs, ideally with a short example?',
  'I read three blog posts about {thing} and each says something different. What does the {tag} community recommend today?',
  'Minimal repro: a fresh project, one file, {thing}, and {tool} fails with a cryptic message. Any idea where to look?',
];

const ANSWERS = [
  'Start with the smallest failing case and run {tool} on it; the message usually points at the exact line.',
  'I had the same issue. Pinning the version and reading the changelog fixed it for me.',
  'The trick is to keep {thing} at the edges and pass plain values inward, then testing is straightforward.',
  'It depends on your load. For a small project I would skip it until measurements say otherwise.',
  'Check the official guide, section on configuration. It explains why the default changed in the last release.',
];

const COMMENTS = [
  'Thanks, this saved me an afternoon.',
  'Could you add the version you tested this with?',
  'Good point, I had not considered the edge case with empty input.',
  'This worked for me after a clean rebuild.',
  'Interesting. Do you have a benchmark for that?',
];

/** Promotion and scams, the way they show up in a technical forum. */
const SPAM = [
  'CONGRATULATIONS! You have been selected to win a FREE iPhone. Click www.prize-claim-now.example and claim your reward today!',
  'Earn $5000 per week working from home!!! No experience needed. Text WIN to 80082 now, limited offer.',
  'Cheap followers and likes, 100% guaranteed, best price. Call now or visit our website for a free trial bonus.',
  'URGENT: your account will be suspended. Verify your password at secure-login-update.example to avoid charges.',
  'Buy cheap replica watches and designer bags, free shipping, discount code SALE50. Order now!',
  'Struggling with {tag}? Our certified experts do your homework for cash. WhatsApp +1 555 0100 for a quote today!',
  'Premium software licence keys at 90% off, instant delivery. Visit our store now and save big!',
  'Crypto signals with 900% returns guaranteed. Join our VIP group now, only 10 places left!',
];

const SPAM_TITLES = ['FREE prize for every member', 'Make money fast from home', 'Limited offer, act now'];

/** Rude replies, from mildly impolite to plainly abusive (no slurs: the demo stays readable). */
const RUDE = [
  'This is the dumbest question I have seen all week. Read the docs, idiot.',
  'Shut up. Nobody asked for your garbage opinion.',
  'What a stupid answer. You clearly have no clue what you are talking about, loser.',
  'Are you really this stupid? Stop posting crap and go away.',
  'This code is trash and so are you. Pathetic.',
  'Nobody cares about your {tag} problem. Stop wasting everyone\'s time, idiot.',
  'Only a moron would use {thing} like that. Delete your account.',
  'lol another clueless {tag} newbie. Google it yourself, dumbass.',
  'Honestly, {tool} is for people who cannot think. You are one of them.',
];

export interface DemoText {
  kind: 'QUESTION' | 'ANSWER' | 'COMMENT' | 'DISCUSSION';
  title?: string;
  body: string;
  tags?: string[];
}

export function ordinaryQuestion(random: Random): DemoText {
  const s = pick(STACKS, random);
  return {
    kind: 'QUESTION',
    title: fill(pick(QUESTION_TITLES, random), s),
    body: fill(pick(QUESTION_BODIES, random), s),
    tags: [s.tag],
  };
}

export function ordinaryReply(random: Random): DemoText {
  const s = pick(STACKS, random);
  return random() < 0.6 ? { kind: 'ANSWER', body: fill(pick(ANSWERS, random), s) } : { kind: 'COMMENT', body: pick(COMMENTS, random) };
}

export function spam(random: Random): DemoText {
  const body = fill(pick(SPAM, random), pick(STACKS, random));
  return random() < 0.5 ? { kind: 'DISCUSSION', title: pick(SPAM_TITLES, random), body, tags: ['community'] } : { kind: 'COMMENT', body };
}

export function rude(random: Random): DemoText {
  return { kind: random() < 0.3 ? 'ANSWER' : 'COMMENT', body: fill(pick(RUDE, random), pick(STACKS, random)) };
}
