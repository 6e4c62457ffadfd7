/**
 * Case folding the way IAM compares tag keys, and no further.
 *
 * IAM compares tag keys case-insensitively. JavaScript's `toLowerCase()` also folds letters
 * outside ASCII (U+212A KELVIN SIGN becomes `k`, U+0130 becomes `i̇`), so a tag key that IAM
 * and an SCP see as different from `keyage:…` would compare equal to it. keyage folds A–Z only.
 */

/** `text` with A–Z lowered to a–z; every other character kept as it is. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** `text` with a–z raised to A–Z; every other character kept as it is. */
export function asciiUpper(text: string): string {
  return text.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 32));
}

/** True when `a` and `b` are equal once A–Z are folded (IAM's tag-key comparison). */
export function asciiEqualIgnoringCase(a: string, b: string): boolean {
  return a.length === b.length && asciiLower(a) === asciiLower(b);
}

/** True when `text` starts with `prefix` once A–Z are folded. */
export function asciiStartsWithIgnoringCase(text: string, prefix: string): boolean {
  return text.length >= prefix.length && asciiLower(text.slice(0, prefix.length)) === asciiLower(prefix);
}
