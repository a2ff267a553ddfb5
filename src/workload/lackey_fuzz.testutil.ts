/**
 * Fuzzed lackey input for the parser tests: lines near the format (every kind, blank and
 * separator variant, Valgrind messages, over-long and out-of-range lines, binary garbage), whole
 * texts of them, and texts with a few bytes flipped.
 */
import fc from 'fast-check';

const hexDigits = fc.string({
  unit: fc.constantFrom(...'0123456789abcdefABCDEF'),
  minLength: 0,
  maxLength: 20,
});
/** Lines near the format: every kind, blank and separator variant, addresses of 0..20 digits. */
export const line = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom('I', ' L', ' S', ' M', ' X', 'L', 'i', ' '),
        fc.constantFrom(' ', '  ', '\t', ' \t', ''),
        hexDigits,
        fc.constantFrom(',', ';', ''),
        fc.oneof(
          fc.nat({ max: 5000 }).map(String),
          fc.constantFrom('', '0', '0008', '4096', '4097', '99999999999'),
        ),
        fc.constantFrom('', ' ', '\t', '\r', ' \r', '\r\r', 'x'),
      )
      .map((parts) => parts.join('')),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '==1== msg',
      '--2-- msg',
      '',
      '\r',
      ' ',
      '=',
      ' L ffe0000000000000,1',
      ' L ffdfffffffffffff,1',
      ' L 1fffffffffffff,4096',
      ' L 20000000000000,1',
      ' L 0000000000000000000000000000001,1',
      `I  ${'f'.repeat(40)},1`,
      `I ${' '.repeat(4100)}1,1`,
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
);
export const text = fc
  .tuple(fc.array(line, { maxLength: 60 }), fc.boolean())
  .map(([lines, nl]) => new TextEncoder().encode(lines.join('\n') + (nl ? '\n' : '')));
export const mutated = fc
  .tuple(text, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }))
  .map(([b, flips]) => {
    const c = b.slice();
    for (const [at, v] of flips) if (c.length > 0) c[at % c.length] = v;
    return c;
  });
