import { feedbackLabels } from '../../src/modules/moderation/feedback';
import { parseFeedback } from '../../ml-runtime/training/feedback';

describe('moderation feedback labels', () => {
  it('reads publishing decisions as negatives for every label', () => {
    expect(feedbackLabels('APPROVE', ['SPAM'], 'spam score 0.8')).toEqual([0, 0, 0]);
    expect(feedbackLabels('GRANT', [], null)).toEqual([0, 0, 0]);
  });

  it('labels hidden or removed content by its reports first, then by the model\'s deciding label', () => {
    expect(feedbackLabels('REMOVE', ['SPAM', 'OFF_TOPIC'], 'toxicity score 0.9')).toEqual([-1, -1, 1]);
    expect(feedbackLabels('HIDE', [], 'hate score 0.7')).toEqual([-1, 1, -1]);
  });

  it('learns nothing from a removal that names no label, or from other actions', () => {
    expect(feedbackLabels('REMOVE', ['OTHER'], null)).toBeNull();
    expect(feedbackLabels('ESCALATE', ['SPAM'], null)).toBeNull();
  });

  it('parses an export into training examples and rejects malformed lines', () => {
    expect(parseFeedback('{"text":"a","y":[1,-1,-1]}\n\n')).toEqual([{ text: 'a', y: [1, -1, -1], source: 'feedback' }]);
    expect(() => parseFeedback('{"text":"a"}')).toThrow(/bad feedback line/);
  });
});
