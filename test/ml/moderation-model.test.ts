/** The committed moderation model, loaded in-process as the workers load it. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadWeights } from '../../ml-runtime/moderation/weights';
import { ModerationModel } from '../../ml-runtime/moderation/model';
import { defaultModelDir } from '../../ml-runtime/paths';

describe('the committed moderation model', () => {
  let model: ModerationModel;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    model = new ModerationModel(loadWeights(defaultModelDir('moderation')));
  });
  afterAll(() => model.dispose());

  it('carries its version and an operating threshold per label', () => {
    expect(model.modelVersion).toMatch(/^moderation@\d+\.\d+\.\d+$/);
    for (const label of ['toxicity', 'hate', 'spam'] as const) {
      expect(model.weights.thresholds[label]).toBeGreaterThan(0);
      expect(model.weights.thresholds[label]).toBeLessThan(1);
    }
  });

  it('scores insults as toxic and friendly remarks as benign', () => {
    const [toxic, benign] = model.run(['shut up you fucking idiot', 'thanks for the detailed answer, it helped a lot']);
    const t = model.weights.thresholds.toxicity;
    expect(toxic.scores.toxicity).toBeGreaterThan(t);
    expect(benign.scores.toxicity).toBeLessThan(t);
  });

  it('scores a prize text as spam and a personal message as ham', () => {
    const [spam, ham] = model.run([
      'WINNER!! You have won a £1000 cash prize. Call 09061701461 now to claim, T&Cs apply',
      'are we still meeting for lunch tomorrow?',
    ]);
    const t = model.weights.thresholds.spam;
    expect(spam.scores.spam).toBeGreaterThan(t);
    expect(ham.scores.spam).toBeLessThan(t);
  });

  it('explains a score with spans that point at the offending word in the text', () => {
    const text = 'I asked a simple question and this idiot answered with nonsense';
    const [result] = model.run([text]);
    const spans = result.explanations.toxicity;
    expect(spans.length).toBeGreaterThan(0);
    for (const s of [...spans, ...result.explanations.hate, ...result.explanations.spam]) {
      expect(s.start).toBeGreaterThanOrEqual(0);
      expect(s.end).toBeLessThanOrEqual(text.length);
      expect(text.slice(s.start, s.end)).toBe(s.text);
      expect(s.weight).toBeGreaterThan(0);
    }
    expect(spans[0].text).toBe('idiot');
  });

  it('scores empty and very long texts without failing', () => {
    const [empty, long] = model.run(['', 'word '.repeat(5000)]);
    expect(empty.scores.toxicity).toBeGreaterThanOrEqual(0);
    expect(long.scores.spam).toBeLessThanOrEqual(1);
  });
});
