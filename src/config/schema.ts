import { z } from "zod";
import { DATA_TYPES, RECORD_TYPES } from "../records/types.ts";
import { SNAPSHOT_LIMITS, type VenueKey } from "./venue-keys.ts";

/**
 * The configuration schema. Every key is required here: `config/default.yaml` holds the
 * defaults (and documents every key), a user file is deep-merged over it, and the result is
 * validated strictly, so an unknown key is an error rather than a silently dead setting
 * (MarketPrism failure 10).
 */

export type { VenueKey } from "./venue-keys.ts";

/** Bytes of payload of a ring: a power of two between 64 KiB and 1 GiB. */
const ringBytes = z
  .number()
  .int()
  .min(65536)
  .max(1 << 30)
  .refine((n) => (n & (n - 1)) === 0, "a power of two");

const count = z.number().int().min(0);
const natsName = z.string().regex(/^[A-Za-z0-9_-]+$/, "letters, digits, '_' or '-'");
const positiveInt = z.number().int().min(1);
const url = z.string().regex(/^(wss?|https?|nats|tls):\/\/\S+$/, "a URL such as wss://host:port/path");

/**
 * A symbol selector: every instrument the venue lists as trading, narrowed by the filters given
 * (README "Symbol selection"). Resolved from the venue's instrument metadata at start and again
 * every `instruments_refresh_s` (src/venues/selection.ts).
 */
export const symbolSelectorSchema = z.strictObject({
  /** Quote assets to keep (USDT, USDC); absent: any. */
  quote: z.array(z.string().min(1)).min(1).optional(),
  /** `perpetual`: perpetual contracts only; absent: any market the venue key collects. */
  contract: z.literal("perpetual").optional(),
  /** Native ids kept whatever the filters and `top` say, when listed. */
  include: z.array(z.string().min(1)).optional(),
  /** Native ids never kept. */
  exclude: z.array(z.string().min(1)).optional(),
  /** Keep the N largest by 24 h quote volume (the venue's ticker endpoint); absent: all. */
  top: positiveInt.optional(),
});
export type SymbolSelector = z.infer<typeof symbolSelectorSchema>;

const venueFields = {
  enabled: z.boolean(),
  /**
   * Venue-native instrument ids (BTCUSDT, BTC-USDT-SWAP, BTC for Deribit indices), or a
   * selector. After validation `symbols` is the explicit list ([] for a selector) and the
   * selector sits in `selector`.
   */
  symbols: z.union([z.array(z.string().min(1)), symbolSelectorSchema], { error: "a list of the venue's own symbols, or a selector { quote, contract, include, exclude, top }" }),
  /**
   * Ingest workers for this venue, each in a thread of its own; symbols are sharded across them.
   * 0 disables. `shared`: one worker, in the thread every `shared` venue shares.
   */
  workers: z.union([count, z.literal("shared")], { error: "a number of workers (0 or more) or shared" }),
  /** Data types to collect on this venue (those the venue does not offer are refused). */
  data_types: z.array(z.enum(DATA_TYPES)),
  ws_url: url,
  rest_url: url,
  /** REST poll bucket period for open interest and long/short ratios, e.g. "5m". */
  poll_period: z.enum(["5m", "15m", "30m", "1h"]),
  /** Seconds between two reads of the venue's instrument metadata (listings, delistings); 0: never. */
  instruments_refresh_s: count,
  /** Ms an event may be stamped later than its receipt before the venue's clock skew is warned about (src/supervisor/clock-skew.ts). */
  max_clock_skew_ms: count,
};

/** Moves a selector out of `symbols` into `selector`, so `symbols` is always a list. */
function splitSelector<T extends { symbols: string[] | SymbolSelector }>(v: T): Omit<T, "symbols"> & { symbols: string[]; selector?: SymbolSelector } {
  const { symbols, ...rest } = v;
  return Array.isArray(symbols) ? { ...rest, symbols } : { ...rest, symbols: [], selector: symbols };
}

const venue = z.strictObject(venueFields).transform(splitSelector);

/**
 * OKX book channels the engine keeps as order books (src/venues/okx/limits.ts): `books` is
 * public, `books50-l2-tbt` and `books-l2-tbt` need a login.
 */
export const OKX_BOOK_CHANNELS = ["books", "books50-l2-tbt", "books-l2-tbt"] as const;
export type OkxBookChannel = (typeof OKX_BOOK_CHANNELS)[number];

/** OKX venues also choose their book channel. */
const okxVenue = z.strictObject({ ...venueFields, book_channel: z.enum(OKX_BOOK_CHANNELS) }).transform(splitSelector);

const batching = z.strictObject({
  max_rows: positiveInt,
  max_bytes: positiveInt,
  linger_ms: positiveInt,
});

const perRecordType = <T extends z.ZodType>(schema: T) =>
  z.strictObject(Object.fromEntries(RECORD_TYPES.map((t) => [t, schema])) as Record<(typeof RECORD_TYPES)[number], T>);

export const configSchema = z.strictObject({
  engine: z.strictObject({
    /** all: ingest+publish+store; collect: ingest+publish; store: JetStream -> ClickHouse. */
    role: z.enum(["all", "collect", "store"]),
    data_dir: z.string().min(1),
    shutdown_deadline_ms: positiveInt,
    restart_initial_ms: positiveInt,
    restart_max_ms: positiveInt,
    /** Linux: nice value of the ingest worker threads (0 = the engine's own). */
    ingest_nice: z.number().int().min(0).max(19),
  }),
  log: z.strictObject({
    level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]),
  }),
  http: z.strictObject({
    enabled: z.boolean(),
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    /** Bearer token that /query and /stats require; empty: none. SPECTRA_HTTP_TOKEN wins. */
    auth_token: z.string(),
    /** ClickHouse's own HTTP interface, read-only, over embedded ClickHouse; 0: off. */
    clickhouse_port: z.number().int().min(0).max(65535),
  }),
  ring: z.strictObject({
    /** Bytes of payload per ring of trades, books and book changes. */
    capacity_bytes: ringBytes,
    /** Bytes of payload per ring of every other type (records/types.ts HIGH_VOLUME_TYPES). */
    low_volume_capacity_bytes: ringBytes,
    /** Records an ingest worker holds back when a ring is full before it drops and emits a gap. */
    overflow_records: count,
  }),
  venues: z.strictObject({
    binance_spot: venue,
    binance_derivatives: venue,
    okx_spot: okxVenue,
    okx_derivatives: okxVenue,
    deribit_derivatives: venue,
  } satisfies Record<VenueKey, typeof venue | typeof okxVenue>),
  /**
   * Batch workers per record type, each its own thread; records are routed by hash(symbol) % N.
   * `shared`: one lane in the one thread every shared type shares (src/supervisor/topology.ts).
   */
  batch_workers: perRecordType(z.union([count, z.literal("shared")], { error: "a number of workers (0 or more) or shared" })),
  batching: perRecordType(batching),
  orderbook: z.strictObject({
    depth: z.number().int().min(1).max(5000),
    /** 0 emits a snapshot on every update. */
    snapshot_interval_ms: count,
    /**
     * Levels per side of a Binance REST depth snapshot: a value both /api/v3/depth and
     * /fapi/v1/depth accept (USDⓈ-M takes only these). Weight per request: spot 5/25/50,
     * USDⓈ-M 2/5/10/20 (src/venues/binance/rest-weights.ts).
     */
    snapshot_limit: z.literal(SNAPSHOT_LIMITS),
  }),
  nats: z
    .strictObject({
      enabled: z.boolean(),
      /** Servers of one NATS cluster (the client picks one and fails over to the others); empty: start the embedded nats-server. */
      servers: z.array(url),
      /** User and password, a token, or a credentials file (JWT + NKey seed), at most one kind; empty: none. */
      user: z.string(),
      password: z.string(),
      token: z.string(),
      credentials_file: z.string(),
      /** TLS to the servers: a CA file to verify them by, and a client certificate and key when they ask for one. */
      tls: z.strictObject({
        ca_file: z.string(),
        cert_file: z.string(),
        key_file: z.string(),
      }),
      embedded: z.strictObject({
        binary: z.string().min(1),
        host: z.string().min(1),
        port: z.number().int().min(0).max(65535),
        /** Cores the server's Go runtime runs on at once (GOMAXPROCS); 0: every core. */
        max_procs: z.number().int().min(0).max(1024),
      }),
      /** How long the start waits for JetStream to answer (a cluster electing its meta leader), ms; 0: not at all. */
      jetstream_wait_ms: count,
      stream: z.strictObject({
        name: natsName,
        retention: z.enum(["limits", "interest", "workqueue"]),
        storage: z.enum(["file", "memory"]),
        max_age_s: count,
        max_bytes: z.number().int().min(-1),
        max_msgs: z.number().int().min(-1),
        duplicate_window_s: positiveInt,
        replicas: z.number().int().min(1).max(5),
      }),
      publish: z.strictObject({
        /** frames: msgpack arrays of records per subject; json: one JSON record per message. */
        mode: z.enum(["frames", "json"]),
        max_in_flight: positiveInt,
        frame_max_records: positiveInt,
        frame_max_bytes: positiveInt,
      }),
      consumer: z.strictObject({
        durable_prefix: natsName,
        fetch_batch: positiveInt,
        ack_wait_ms: positiveInt,
        max_deliver: positiveInt,
        /** Storer processes sharing the durable consumers: each lets out its share of unacknowledged messages (durable-consumer.ts maxAckPending). */
        storers: positiveInt,
        dead_letter_subject: z.string().min(1),
        dead_letter_stream: natsName,
        dead_letter_max_age_s: count,
      }),
    })
    .superRefine((n, ctx) => {
      const kinds = [n.user !== "" || n.password !== "" ? "user/password" : null, n.token !== "" ? "token" : null, n.credentials_file !== "" ? "credentials_file" : null].filter((k) => k !== null);
      if (kinds.length > 1) ctx.addIssue({ code: "custom", path: ["credentials_file"], message: `give one way to authenticate, not ${kinds.join(" and ")}` });
      if (n.password !== "" && n.user === "") ctx.addIssue({ code: "custom", path: ["user"], message: "a password needs its user" });
      if ((n.tls.cert_file === "") !== (n.tls.key_file === "")) ctx.addIssue({ code: "custom", path: ["tls"], message: "cert_file and key_file go together" });
    }),
  clickhouse: z.strictObject({
    enabled: z.boolean(),
    /** Empty: embedded chDB under data_dir/clickhouse. */
    url: z.union([z.literal(""), url]),
    user: z.string(),
    password: z.string(),
    hot_database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an identifier"),
    cold_database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an identifier"),
    request_timeout_ms: positiveInt,
    /** Empty: plain tables. A cluster name: replicated local tables and Distributed tables, ON CLUSTER. */
    cluster: z.union([z.literal(""), z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, "a cluster name")]),
    keeper_path: z.string().min(1),
    replica_name: z.string().min(1),
    local_table_suffix: z.string().regex(/^[A-Za-z0-9_]+$/, "identifier characters"),
  }).refine((c) => c.cluster === "" || c.url !== "", { message: "cluster needs a ClickHouse server url (embedded chDB has no cluster)", path: ["cluster"] }),
  tiering: z.strictObject({
    enabled: z.boolean(),
    window_s: positiveInt,
    lag_s: count,
    recheck_s: count,
    interval_s: positiveInt,
    /** same: INSERT ... SELECT on one instance; remote: remote() table function; stream: through the engine. */
    mode: z.enum(["same", "remote", "stream"]),
    cold_url: z.union([z.literal(""), url]),
    cold_user: z.string(),
    cold_password: z.string(),
    hot_native_port: z.number().int().min(1).max(65535),
    drop_verified_partitions: z.boolean(),
  }),
  replay: z.strictObject({
    /**
     * Messages per second per venue, 0 as fast as possible; or `live`: the generator at live
     * rates (as `bun run simulate --rate live`).
     */
    rate: z.union([count, z.literal("live")], { error: 'a count of messages per second (0 = as fast as possible) or "live"' }),
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
  }),
});

export type Config = z.infer<typeof configSchema>;
export type VenueConfig = Config["venues"][VenueKey];
export type BatchingConfig = Config["batching"]["trade"];
