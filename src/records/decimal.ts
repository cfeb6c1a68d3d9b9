/**
 * A decimal string as the exchanges send them and as ClickHouse Decimal(38,18) columns take it
 * exactly: optional minus, up to 20 integer digits and up to 18 fraction digits, no exponent.
 * The normalizers check values against it as they read frames (src/venues/normalizer-stats.ts)
 * and storage checks records against it before an insert (src/storage/validate-record.ts).
 */
export const DECIMAL_38_18 = /^-?\d{1,20}(?:\.\d{1,18})?$/;
