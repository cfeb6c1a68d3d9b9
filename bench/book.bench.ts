import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { OrderBook } from "tardis-dev";
import { PriceBook } from "../src/book/price-book.ts";
import type { RawLevel } from "../src/book/price-book.ts";
import { rate } from "./rate.ts";

/**
 * Question: how many recorded depth updates per second does Spectra's price-level book
 * (sorted arrays keyed by numeric price, exchange text kept) apply, beside tardis-dev's
 * `OrderBook` (red-black trees of numbers) on the same updates? Per venue, every book
 * message of the recording after (and including) each symbol's snapshot is replayed in file
 * order. JSON parsing is outside the timed loop for both; tardis gets its levels pre-converted
 * to `{price, amount}` numbers (its mappers' job), Spectra parses the strings as it applies
 * them, so the comparison leans toward tardis. Both final books are checked equal (level
 * counts and best prices) before a rate is reported.
 */

export interface BookBenchRow {
  spectra_updates_per_s: number;
  tardis_updates_per_s: number;
}

const FIXTURES = join(import.meta.dir, "../../shared/fixtures/exchanges");
const ROUNDS = 3;

interface Update {
  readonly symbol: string;
  readonly snapshot: boolean;
  readonly bids: readonly RawLevel[];
  readonly asks: readonly RawLevel[];
}

interface TardisChange {
  readonly type: "book_change";
  readonly symbol: string;
  readonly exchange: "binance";
  readonly isSnapshot: boolean;
  readonly bids: { price: number; amount: number }[];
  readonly asks: { price: number; amount: number }[];
  readonly timestamp: Date;
  readonly localTimestamp: Date;
}

function lines(file: string): { source: string; url: string; raw: string }[] {
  return readFileSync(join(FIXTURES, file), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { source: string; url: string; raw: string });
}

/** Binance: each symbol's REST snapshot, then its diffs past the snapshot id, in file order. */
function binanceUpdates(file: string, futures: boolean): Update[] {
  type Diff = { s: string; u: number; b: RawLevel[]; a: RawLevel[] };
  const all = lines(file);
  const snapshotIds = new Map<string, number>();
  const out: Update[] = [];
  for (const l of all) {
    if (l.source !== "http") continue;
    const symbol = new URL(l.url).searchParams.get("symbol") ?? "";
    snapshotIds.set(symbol, (JSON.parse(l.raw) as { lastUpdateId: number }).lastUpdateId);
  }
  const started = new Set<string>();
  for (const l of all) {
    if (l.source === "http") {
      const symbol = new URL(l.url).searchParams.get("symbol") ?? "";
      const body = JSON.parse(l.raw) as { bids: RawLevel[]; asks: RawLevel[] };
      out.push({ symbol, snapshot: true, bids: body.bids, asks: body.asks });
      started.add(symbol);
      continue;
    }
    const msg = JSON.parse(l.raw) as { stream: string; data: Diff };
    if (!msg.stream.includes("@depth")) continue;
    const d = msg.data;
    const id = snapshotIds.get(d.s) ?? Number.POSITIVE_INFINITY;
    if (!started.has(d.s) || (futures ? d.u < id : d.u <= id)) continue;
    out.push({ symbol: d.s, snapshot: false, bids: d.b, asks: d.a });
  }
  return out;
}

/** OKX: `books` snapshot and updates of the instruments one venue keeps. */
function okxUpdates(keep: ReadonlySet<string>): Update[] {
  type Msg = { arg?: { channel?: string; instId?: string }; action?: string; data?: { bids: RawLevel[]; asks: RawLevel[] }[] };
  const out: Update[] = [];
  for (const l of lines("okx.jsonl")) {
    const m = JSON.parse(l.raw) as Msg;
    const inst = m.arg?.instId ?? "";
    if (m.arg?.channel !== "books" || !keep.has(inst) || m.data?.[0] === undefined) continue;
    out.push({ symbol: inst, snapshot: m.action === "snapshot", bids: m.data[0].bids, asks: m.data[0].asks });
  }
  return out;
}

function spectraPass(updates: readonly Update[]): Map<string, PriceBook> {
  const books = new Map<string, PriceBook>();
  for (let i = 0; i < updates.length; i++) {
    const u = updates[i] as Update;
    let book = books.get(u.symbol);
    if (book === undefined) {
      book = new PriceBook();
      books.set(u.symbol, book);
    }
    if (u.snapshot) book.clear();
    if (!book.bids.apply(u.bids) || !book.asks.apply(u.asks)) throw new Error(`${u.symbol}: a recorded level did not parse`);
  }
  return books;
}

function tardisPass(changes: readonly TardisChange[]): Map<string, OrderBook> {
  const books = new Map<string, OrderBook>();
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i] as TardisChange;
    let book = books.get(c.symbol);
    if (book === undefined) {
      book = new OrderBook();
      books.set(c.symbol, book);
    }
    book.update(c);
  }
  return books;
}

function verify(venue: string, spectra: Map<string, PriceBook>, tardis: Map<string, OrderBook>): void {
  for (const [symbol, book] of spectra) {
    const t = tardis.get(symbol);
    if (t === undefined) throw new Error(`${venue}: tardis has no book for ${symbol}`);
    const tBids = [...t.bids()].length;
    const tAsks = [...t.asks()].length;
    if (tBids !== book.bids.size || tAsks !== book.asks.size)
      throw new Error(`${venue} ${symbol}: levels ${book.bids.size}/${book.asks.size} vs tardis ${tBids}/${tAsks}`);
    if (Number(book.bids.priceAt(0)) !== t.bestBid()?.price || Number(book.asks.priceAt(0)) !== t.bestAsk()?.price)
      throw new Error(`${venue} ${symbol}: best prices differ from tardis`);
  }
}

export async function runBookBench(opts: { quick: boolean }): Promise<Record<string, BookBenchRow>> {
  if (!existsSync(FIXTURES)) throw new Error(`exchange recordings not found at ${FIXTURES}`);
  const min_ms = opts.quick ? 100 : 500;
  const venues: Record<string, Update[]> = {
    binance_spot: binanceUpdates("binance_spot.jsonl", false),
    binance_derivatives: binanceUpdates("binance_derivatives.jsonl", true),
    okx_spot: okxUpdates(new Set(["BTC-USDT"])),
    okx_derivatives: okxUpdates(new Set(["UNI-USD-SWAP"])),
  };
  const out: Record<string, BookBenchRow> = {};
  const at = new Date(0);
  for (const [venue, updates] of Object.entries(venues)) {
    const changes: TardisChange[] = updates.map((u) => ({
      type: "book_change",
      symbol: u.symbol,
      exchange: "binance",
      isSnapshot: u.snapshot,
      bids: u.bids.map((l) => ({ price: Number(l[0]), amount: Number(l[1]) })),
      asks: u.asks.map((l) => ({ price: Number(l[0]), amount: Number(l[1]) })),
      timestamp: at,
      localTimestamp: at,
    }));
    verify(venue, spectraPass(updates), tardisPass(changes));
    // Interleaved rounds, best of each (the machine is shared; see normalize.bench.ts).
    let spectra = 0;
    let tardis = 0;
    for (let round = 0; round < ROUNDS; round++) {
      spectra = Math.max(spectra, rate(updates.length, min_ms, () => spectraPass(updates)));
      tardis = Math.max(tardis, rate(changes.length, min_ms, () => tardisPass(changes)));
    }
    out[venue] = { spectra_updates_per_s: spectra, tardis_updates_per_s: tardis };
  }
  return out;
}

if (import.meta.main) {
  const rows = await runBookBench({ quick: process.argv.includes("--quick") });
  const table: Record<string, Record<string, number | string>> = {};
  for (const [venue, r] of Object.entries(rows))
    table[venue] = { ...r, "spectra/tardis": (r.spectra_updates_per_s / r.tardis_updates_per_s).toFixed(2) };
  console.table(table);
}
