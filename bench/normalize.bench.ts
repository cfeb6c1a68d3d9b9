import { existsSync } from "node:fs";
import { join } from "node:path";
import { type BookChange, normalizeBookChanges, normalizeTrades, OrderBook } from "tardis-dev";
import type { VenueKey } from "../src/config/schema.ts";
import type { MarketRecord } from "../src/records/types.ts";
import { recordedFrame } from "../src/replay/recorded-frame.ts";
import { readRecording } from "../src/replay/recording.ts";
import { loadReferenceInstruments } from "../src/venues/instruments.ts";
import { getVenue } from "../src/venues/registry.ts";
import type { InstrumentMap, RawFrame } from "../src/venues/types.ts";
import { rate } from "./rate.ts";

/**
 * Question: how many recorded exchange frames per second does Spectra's normalizer turn into
 * records, per venue, beside tardis-dev's trade + book-change mappers on the same frames and a
 * bare JSON.parse loop (the floor every normalizer pays)? Spectra runs with the engine's
 * default book output (100 levels, one record per second per symbol), so it maintains full
 * books; the tardis side therefore applies its book changes to tardis' own `OrderBook` (what
 * tardis needs to produce the same book output). Each side's output count is checked against
 * a reference pass before a rate is reported.
 */

export interface NormalizeBenchRow {
  spectra_msgs_per_s: number;
  tardis_msgs_per_s: number;
  json_parse_msgs_per_s: number;
}

const FIXTURES = join(import.meta.dir, "../../shared/fixtures/exchanges");
const ROUNDS = 3;

type TardisExchange = "binance" | "binance-futures" | "okex" | "okex-swap" | "deribit";

const VENUES: ReadonlyArray<{ venue: VenueKey; file: string; tardis: TardisExchange }> = [
  { venue: "binance_spot", file: "binance_spot.jsonl", tardis: "binance" },
  { venue: "binance_derivatives", file: "binance_derivatives.jsonl", tardis: "binance-futures" },
  { venue: "okx_spot", file: "okx.jsonl", tardis: "okex" },
  { venue: "okx_derivatives", file: "okx.jsonl", tardis: "okex-swap" },
  { venue: "deribit_derivatives", file: "deribit.jsonl", tardis: "deribit" },
];

function spectraPass(venue: VenueKey, frames: readonly RawFrame[], instruments: InstrumentMap): number {
  const def = getVenue(venue);
  let records = 0;
  const n = def.createNormalizer({
    symbols: [],
    data_types: def.data_types.filter((t) => t !== "orderbook_delta"),
    depth: 100,
    snapshot_interval_ms: 1000,
    instruments,
    emit: (_r: MarketRecord) => {
      records++;
    },
  });
  for (let i = 0; i < frames.length; i++) n.push(frames[i] as RawFrame);
  if (n.stats.errors + n.stats.unrecognized !== 0) throw new Error(`${venue}: Spectra counted bad frames in a recording`);
  return records;
}

/** A tardis mapper pair fed the way tardis-dev's own replay feeds it (REST snapshots as `@depthSnapshot`). */
function tardisPass(exchange: TardisExchange, frames: readonly RawFrame[]): { trades: number; changes: number } {
  // Binance: the recording's own time (snapshot-overlap errors logged, not thrown, as in tardis
  // historical replays). OKX: "now" selects the v5 `books` channel the recording used.
  const at = exchange.startsWith("okex") ? new Date() : new Date((frames[0] as RawFrame).recv_ts_ms);
  const trades = normalizeTrades(exchange, at);
  const books = normalizeBookChanges(exchange, at);
  const orderBooks = new Map<string, OrderBook>();
  let nTrades = 0;
  let nChanges = 0;
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i] as RawFrame;
    let msg = JSON.parse(f.raw) as Record<string, unknown>;
    if (f.source === "http") {
      const symbol = new URL(f.url).searchParams.get("symbol");
      if (symbol === null) continue;
      msg = { stream: `${symbol.toLowerCase()}@depthSnapshot`, generated: true, data: msg };
    }
    const ts = new Date(f.recv_ts_ms);
    if (trades.canHandle(msg)) for (const _t of trades.map(msg, ts) ?? []) nTrades++;
    if (books.canHandle(msg))
      for (const c of (books.map(msg, ts) ?? []) as Iterable<BookChange>) {
        let ob = orderBooks.get(c.symbol);
        if (ob === undefined) {
          ob = new OrderBook();
          orderBooks.set(c.symbol, ob);
        }
        ob.update(c);
        nChanges++;
      }
  }
  return { trades: nTrades, changes: nChanges };
}

function jsonPass(frames: readonly RawFrame[]): number {
  let objects = 0;
  for (let i = 0; i < frames.length; i++) if (JSON.parse((frames[i] as RawFrame).raw) !== null) objects++;
  return objects;
}

export async function runNormalizeBench(opts: { quick: boolean }): Promise<Record<string, NormalizeBenchRow>> {
  if (!existsSync(FIXTURES)) throw new Error(`exchange recordings not found at ${FIXTURES}`);
  // Historical OKX captures used `trades`; tardis switches to `trades-all` for live dates.
  process.env.OKX_USE_TRADES_CHANNEL = "1";
  const min_ms = opts.quick ? 100 : 500;
  const out: Record<string, NormalizeBenchRow> = {};
  for (const { venue, file, tardis } of VENUES) {
    const frames = readRecording(FIXTURES, file).map(recordedFrame);
    const instruments = loadReferenceInstruments(venue, FIXTURES);
    if (instruments === undefined) throw new Error(`reference instruments for ${venue} missing under ${FIXTURES}`);

    const expectedRecords = spectraPass(venue, frames, instruments);
    const expectedTardis = tardisPass(tardis, frames);
    if (venue !== "deribit_derivatives" && expectedRecords === 0) throw new Error(`${venue}: Spectra produced no records`);
    if (expectedTardis.trades + expectedTardis.changes === 0) throw new Error(`${venue}: tardis produced nothing`);
    // Interleaved rounds, best of each: the machine is shared, and a burst of load during one
    // candidate's only round would otherwise decide the comparison.
    let spectra = 0;
    let tardisRate = 0;
    let json = 0;
    for (let round = 0; round < ROUNDS; round++) {
      spectra = Math.max(
        spectra,
        rate(frames.length, min_ms, () => {
          if (spectraPass(venue, frames, instruments) !== expectedRecords) throw new Error(`${venue}: Spectra record count changed`);
        }),
      );
      tardisRate = Math.max(
        tardisRate,
        rate(frames.length, min_ms, () => {
          const r = tardisPass(tardis, frames);
          if (r.trades !== expectedTardis.trades || r.changes !== expectedTardis.changes) throw new Error(`${venue}: tardis count changed`);
        }),
      );
      json = Math.max(
        json,
        rate(frames.length, min_ms, () => {
          if (jsonPass(frames) !== frames.length) throw new Error(`${venue}: JSON.parse count off`);
        }),
      );
    }
    out[venue] = { spectra_msgs_per_s: spectra, tardis_msgs_per_s: tardisRate, json_parse_msgs_per_s: json };
  }
  return out;
}

if (import.meta.main) {
  const quick = process.argv.includes("--quick");
  const rows = await runNormalizeBench({ quick });
  const table: Record<string, Record<string, number | string>> = {};
  for (const [venue, r] of Object.entries(rows))
    table[venue] = {
      ...r,
      "spectra/tardis": (r.spectra_msgs_per_s / r.tardis_msgs_per_s).toFixed(2),
      "spectra/json": (r.spectra_msgs_per_s / r.json_parse_msgs_per_s).toFixed(2),
    };
  console.table(table);
}
