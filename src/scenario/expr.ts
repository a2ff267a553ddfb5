/**
 * Numbers and `${…}` expressions of scenario files.
 *
 * A number in a scenario is a YAML integer, a hex string (`'0x40000000'`) or a size (`'64K'`,
 * `'2M'`, `'1G'`, `'1T'`: binary units). In steps, any string may contain `${expr}`
 * placeholders that are replaced by the expression's value in decimal before the step is checked:
 * `at: '${0x50000000 + (i % 3) * 4K}'` or `name: 'page${i}'`. An expression is made of integer
 * literals (decimal, hex, or with a K/M/G/T suffix), the loop variables of the enclosing
 * repeats, the variables earlier attach steps bound to the address they chose (`var`), parentheses, unary minus and the operators `* / %` and `+ -` with the usual
 * precedence; `/` divides and rounds down. Every intermediate value must be a safe integer.
 */
import { err, ok, type Result } from '../util/result.js';

const UNIT: Record<string, number> = { K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** A literal: hex, or decimal with an optional binary unit. */
export const NUMBER_LITERAL = /^(?:0x[0-9a-fA-F]+|[0-9]+[KMGT]?)$/;

/** Parses a number literal (`4096`, `0x1000`, `4K`) to a safe integer. */
export function parseNumber(text: string): Result<number, 'INVALID_NUMBER'> {
  const t = text.trim();
  if (!NUMBER_LITERAL.test(t)) {
    return err(
      'INVALID_NUMBER',
      `'${text}' is not a number; expected an integer, hex (0x1000) or size (4K, 2M, 1G)`,
    );
  }
  const unit = UNIT[t[t.length - 1]!];
  const n = t.startsWith('0x') ? Number.parseInt(t.slice(2), 16) : Number.parseInt(t, 10) * (unit ?? 1);
  if (!Number.isSafeInteger(n)) return err('INVALID_NUMBER', `'${text}' is too large (above 2^53)`);
  return ok(n);
}

/** Variables in scope (loop variables and attach vars): name -> value. */
export type Vars = Readonly<Record<string, number>>;

/** Evaluates an expression over the loop variables. */
export function evaluate(expr: string, vars: Vars): Result<number, 'INVALID_EXPRESSION'> {
  const p = new Parser(expr, vars);
  try {
    const v = p.expr();
    p.skip();
    if (p.pos < expr.length) p.fail(`unexpected '${expr[p.pos]}'`);
    return ok(v);
  } catch (e) {
    if (e instanceof ExprError) return err('INVALID_EXPRESSION', `in \${${expr}}: ${e.message}`);
    throw e;
  }
}

/** True when a string holds a `${…}` placeholder. */
export function hasPlaceholder(s: string): boolean {
  return s.includes('${');
}

/** Replaces every `${expr}` in a string by the expression's value in decimal. */
export function interpolate(s: string, vars: Vars): Result<string, 'INVALID_EXPRESSION'> {
  let out = '';
  let at = 0;
  for (;;) {
    const start = s.indexOf('${', at);
    if (start < 0) return ok(out + s.slice(at));
    const end = s.indexOf('}', start + 2);
    if (end < 0) return err('INVALID_EXPRESSION', `'${s}' has '\${' without a closing '}'`);
    const v = evaluate(s.slice(start + 2, end), vars);
    if (!v.ok) return v;
    out += s.slice(at, start) + String(v.value);
    at = end + 1;
  }
}

class ExprError extends Error {}

class Parser {
  pos = 0;
  constructor(
    private readonly src: string,
    private readonly vars: Vars,
  ) {}

  fail(what: string): never {
    throw new ExprError(`${what} at column ${this.pos + 1}`);
  }

  skip(): void {
    while (this.pos < this.src.length && this.src[this.pos] === ' ') this.pos++;
  }

  private checked(v: number): number {
    if (!Number.isSafeInteger(v)) this.fail(`value ${v} is not a safe integer`);
    return v;
  }

  expr(): number {
    let v = this.term();
    for (;;) {
      this.skip();
      const c = this.src[this.pos];
      if (c !== '+' && c !== '-') return v;
      this.pos++;
      const r = this.term();
      v = this.checked(c === '+' ? v + r : v - r);
    }
  }

  private term(): number {
    let v = this.factor();
    for (;;) {
      this.skip();
      const c = this.src[this.pos];
      if (c !== '*' && c !== '/' && c !== '%') return v;
      this.pos++;
      const r = this.factor();
      if (c !== '*' && r === 0) this.fail('division by zero');
      v = this.checked(c === '*' ? v * r : c === '/' ? Math.floor(v / r) : v - r * Math.floor(v / r));
    }
  }

  private factor(): number {
    this.skip();
    const c = this.src[this.pos];
    if (c === '(') {
      this.pos++;
      const v = this.expr();
      this.skip();
      if (this.src[this.pos] !== ')') this.fail("expected ')'");
      this.pos++;
      return v;
    }
    if (c === '-') {
      this.pos++;
      return -this.factor();
    }
    const word = /^[A-Za-z_0-9][A-Za-z_0-9]*/.exec(this.src.slice(this.pos))?.[0];
    if (!word) this.fail(c === undefined ? 'unexpected end' : `unexpected '${c}'`);
    this.pos += word.length;
    if (/^[0-9]/.test(word)) {
      const n = parseNumber(word);
      if (!n.ok) this.fail(n.message);
      return n.value;
    }
    const v = Object.hasOwn(this.vars, word) ? this.vars[word] : undefined;
    if (v === undefined) {
      const known = Object.keys(this.vars);
      this.fail(
        `unknown variable '${word}' (${known.length ? `variables here: ${known.join(', ')}` : 'no enclosing repeat or earlier attach var defines it'})`,
      );
    }
    return v;
  }
}
