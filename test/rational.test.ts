import t from 'tap';
import { rescale } from '../src/core/rational.js';

t.test('rescale rounds half away from zero like av_rescale_q', async (t) => {
  t.equal(rescale(1, { num: 1, den: 25 }, { num: 1, den: 90000 }), 3600);
  t.equal(rescale(3600, { num: 1, den: 90000 }, { num: 1, den: 25 }), 1);
  t.equal(rescale(1, { num: 1, den: 3 }, { num: 1, den: 2 }), 1); // 0.666 → 1
  t.equal(rescale(1, { num: 1, den: 4 }, { num: 1, den: 2 }), 1); // 0.5 → 1
  t.equal(rescale(-1, { num: 1, den: 4 }, { num: 1, den: 2 }), -1); // -0.5 → -1
  t.equal(rescale(2 ** 33 + 5, { num: 1, den: 90000 }, { num: 1, den: 90000 }), 2 ** 33 + 5);
  t.equal(rescale(8589934591, { num: 1, den: 90000 }, { num: 1, den: 1000 }), 95443718);
});
