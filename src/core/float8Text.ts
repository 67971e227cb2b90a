/**
 * The text PostgreSQL prints for a `float8` value, so a key or a wire value built from a JS number matches the
 * database's own.
 *
 * Invariants:
 * - Digits are the shortest that read back as the same double (JavaScript's and PostgreSQL's shortest round-trip
 *   output agree on them); PostgreSQL writes them in fixed notation when the decimal exponent is in [-4, 15) and
 *   otherwise as `d.ddde±XX` with at least two exponent digits (`1e-07`, `1.5e+20`), where JavaScript switches at
 *   other bounds and pads nothing (`1e-7`, `150000000000000000000`).
 * - Integers are printed as JavaScript prints them: a key given as one is almost always of an integer column
 *   (`int2`/`int4`, or `int8` within 2^53), whose text has no exponent. Only an integer-valued `float8` of 1e15 or
 *   more reads differently (PostgreSQL prints `1e+15`, and past 2^53 not always JavaScript's digits): pass such a
 *   key as its text. Checked against PostgreSQL's output on thousands of random doubles.
 */

/**
 * `value` as PostgreSQL's `float8` output (see the file's invariants); integers as JavaScript prints them.
 * @example
 * float8Text(1e-7) // '1e-07'
 * float8Text(0.5)  // '0.5'
 */
export function float8Text(value: number): string {
  if (Number.isInteger(value) || !Number.isFinite(value)) return Object.is(value, -0) ? '-0' : String(value)
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e')
  const exponent = Number(exponentText)
  if (exponent >= -4 && exponent < 15) return String(value)
  const magnitude = Math.abs(exponent)
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${magnitude < 10 ? '0' : ''}${magnitude}`
}
