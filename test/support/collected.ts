import { DATA_TYPES, type DataType } from "../../src/records/types.ts";

/**
 * The data types config/default.yaml collects on some venue: every one but orderbook_delta,
 * which no venue lists unless asked to (a row per changed book level). Engine tests that wait
 * for "every data type stored" under the default venues wait for these.
 */
export const DEFAULT_COLLECTED: readonly DataType[] = DATA_TYPES.filter((t) => t !== "orderbook_delta");
