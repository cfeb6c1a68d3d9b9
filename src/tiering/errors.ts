/** Bad input from the caller (unknown table, bad filter value, bad option): the CLI exits 2. */
export class TieringUsageError extends Error {
  override readonly name = "TieringUsageError";
}

/**
 * Hot and cold cannot be tiered as they stand: a database or table is missing or unreachable,
 * or the two schemas differ. Raised before anything is copied or dropped, so hot is untouched.
 */
export class TieringSetupError extends Error {
  override readonly name = "TieringSetupError";
}
