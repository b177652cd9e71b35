/**
 * `String.prototype.isWellFormed` (ES2024, in Node 20): true when `s` holds no lone UTF-16
 * surrogate. The project's ES2023 lib typings lack it, hence the cast in one place.
 */
export function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * True when PostgreSQL can store `s` as text or inside jsonb: no U+0000 (NUL) and no lone
 * surrogate. Both are refused by the store (SQLSTATE 22P05 / 22P02), which would turn bad input
 * into a failed insert.
 */
export function isStorableText(s: string): boolean {
  return !s.includes('\u0000') && isWellFormed(s);
}
