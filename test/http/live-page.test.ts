import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { configWith, mergeConfig } from "../../src/config/load.ts";
import type { StatsSnapshot } from "../../src/http/stats-types.ts";
import { createLogger } from "../../src/log/logger.ts";
import { DATA_TYPES } from "../../src/records/types.ts";
import { DEFAULT_COLLECTED } from "../support/collected.ts";
import { startReplay, type Replay } from "../../src/replay/replay-mode.ts";
import { typeCounter } from "../../src/stats/layout.ts";
import { Engine } from "../../src/supervisor/engine.ts";
import { freshNatsStore, testDataDir, uniqueDatabase } from "../support/chdb.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The live page (`GET /`) in Debian's headless Chromium against a running engine: every
 * enabled venue and data type is on it with the figures of `/stats`, it refreshes, and it
 * follows the token and origin rules.
 */

const CHROMIUM = process.env.CHROMIUM_BIN ?? Bun.which("chromium") ?? Bun.which("chromium-browser");
if (CHROMIUM === null && process.env.CI === "true") throw new Error("chromium is missing: src/setup/install.sh installs it (apt-get install -y chromium)");
if (CHROMIUM === null) console.warn("skipping the live page test: chromium is not installed (as root: apt-get install -y chromium)");
const withChromium = CHROMIUM === null ? describe.skip : describe;

const TOKEN = "live-page-t0ken";

/** The few DOM calls the functions run inside the page make (the project compiles without the DOM lib). */
interface PageNode {
  readonly textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
  readonly hidden: boolean;
  querySelectorAll(selector: string): ArrayLike<PageNode>;
}
declare const document: { getElementById(id: string): PageNode | null; querySelectorAll(selector: string): ArrayLike<PageNode> };

withChromium("live page in headless Chromium", () => {
  const log = createLogger("silent");
  let engine: Engine;
  let replay: Replay;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    const base = {
      engine: { data_dir: testDataDir() },
      http: { port: 0, clickhouse_port: 0, auth_token: TOKEN },
      nats: { embedded: { port: 0 } },
      replay: { rate: 4 },
      tiering: { window_s: 60, lag_s: 0, interval_s: 1 },
      clickhouse: { hot_database: uniqueDatabase("page_hot"), cold_database: uniqueDatabase("page_cold") },
      batching: Object.fromEntries(DATA_TYPES.map((t) => [t, { linger_ms: 200 }])),
    };
    freshNatsStore();
    replay = await startReplay(configWith(base), null, log, true);
    engine = new Engine(configWith(mergeConfig(base, replay.overrides)), { log });
    await engine.start();
    url = engine.httpUrl as string;
    await waitFor("every data type stored", () => DEFAULT_COLLECTED.every((t) => engine.counters.read(typeCounter(t, "stored")) > 0), 60_000);
    browser = await puppeteer.launch({ executablePath: CHROMIUM as string, args: ["--no-sandbox", "--headless=new"] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await engine?.stop();
    await replay?.stop();
  });

  async function stats(): Promise<StatsSnapshot> {
    return (await (await fetch(`${url}/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as StatsSnapshot;
  }

  /** The page's figures: `data-field` cells of each table row, keyed by the row's data attributes. */
  async function pageFigures(page: Page): Promise<{ uptime: number; venues: Record<string, Record<string, string>>; types: Record<string, Record<string, string>>; books: string[]; rings: number; tables: string[] }> {
    return page.evaluate(() => {
      const fields = (row: PageNode) => Object.fromEntries(Array.from(row.querySelectorAll("[data-field]")).map((c) => [c.dataset.field as string, c.textContent ?? ""]));
      const rows = (id: string) => Array.from(document.querySelectorAll(`#${id} tbody tr`));
      return {
        uptime: Number(document.getElementById("uptime")?.dataset.seconds),
        venues: Object.fromEntries(rows("venues").map((r) => [r.dataset.venue as string, fields(r)])),
        types: Object.fromEntries(rows("types").map((r) => [r.dataset.type as string, fields(r)])),
        books: rows("books").map((r) => `${r.dataset.venue}|${r.dataset.symbol}`),
        rings: rows("rings").length,
        tables: rows("lag").map((r) => r.dataset.table as string),
      };
    });
  }

  test("shows every enabled venue and data type with the figures of /stats, and refreshes every second", async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    await page.goto(`${url}/#token=${TOKEN}`);
    const before = await stats();
    await page.waitForFunction((t: number) => Number(document.getElementById("uptime")?.dataset.seconds) >= t, { timeout: 10_000 }, before.uptime_s);
    const shown = await pageFigures(page);
    const after = await stats();
    // The token moved from the address to this tab's storage.
    expect(page.url()).toBe(`${url}/`);

    const enabled = Object.entries(after.venues).filter(([, v]) => v.enabled).map(([name]) => name);
    expect(enabled.length).toBe(5);
    expect(Object.keys(shown.venues).sort()).toEqual(enabled.sort());
    // Counters only grow: what the page shows lies between the /stats read before and after it.
    const between = (value: string, lo: number, hi: number) => {
      expect(Number(value)).toBeGreaterThanOrEqual(lo);
      expect(Number(value)).toBeLessThanOrEqual(hi);
    };
    for (const name of enabled) {
      const v = shown.venues[name] as Record<string, string>;
      expect(v.state).toBe(after.venues[name]?.state as string);
      between(v.messages_in as string, before.venues[name]?.messages_in as number, after.venues[name]?.messages_in as number);
      between(v.reconnects as string, before.venues[name]?.reconnects as number, after.venues[name]?.reconnects as number);
      expect(v.symbols).toBe(String(after.venues[name]?.symbols.resolved));
    }
    expect(Object.keys(shown.types).sort()).toEqual(Object.keys(after.data_types).sort());
    for (const [type, figures] of Object.entries(shown.types)) {
      for (const key of ["ingested", "published", "stored"] as const) {
        between(figures[key] as string, before.data_types[type]?.[key] as number, after.data_types[type]?.[key] as number);
      }
    }
    for (const t of DEFAULT_COLLECTED) expect(Number(shown.types[t]?.stored)).toBeGreaterThan(0);
    const books = Object.entries(after.books).flatMap(([venue, list]) => list.map((b) => `${venue}|${b.native}`));
    expect(books.length).toBeGreaterThan(0);
    expect(shown.books.sort()).toEqual(books.sort());
    expect(shown.rings).toBe(after.workers.reduce((n, w) => n + w.rings.length, 0));
    expect(shown.tables.sort()).toEqual(Object.keys(after.tiering).sort());

    // Refreshes: a second later the page shows a later uptime and grown counters.
    await page.waitForFunction((t: number) => Number(document.getElementById("uptime")?.dataset.seconds) >= t + 1, { timeout: 5_000 }, shown.uptime);
    const later = await pageFigures(page);
    expect(Number(later.types.trade?.stored)).toBeGreaterThanOrEqual(Number(shown.types.trade?.stored));
    // Each rate chart is a drawn canvas.
    expect(await page.$$eval("#venues canvas", (c) => c.length)).toBe(5);

    const shot = join(mkdtempSync(join(tmpdir(), "spectra-page-")), "live.png");
    await page.screenshot({ path: shot });
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1400, 1000]);
    await page.close();
  }, 60_000);

  test("without the token the page asks for it and shows no figures", async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/`);
    await page.waitForSelector("#token-form:not([hidden])", { timeout: 5_000 });
    expect(await page.$eval("#error", (e) => e.textContent)).toBe("/stats needs the engine's token");
    expect(await page.$$eval("#venues tbody tr", (r) => r.length)).toBe(0);
    await page.type("#token", TOKEN);
    await page.click("button[type=submit]");
    await page.waitForSelector("#venues tbody tr", { timeout: 5_000 });
    expect(await page.$eval("#token-form", (f) => (f as unknown as PageNode).hidden)).toBe(true);
    await page.close();
  }, 30_000);

  test("a page on another origin cannot read /stats through the engine, and / refuses foreign origins", async () => {
    const foreign = await fetch(`${url}/`, { headers: { origin: "http://evil.example" } });
    expect(foreign.status).toBe(403);
    const page = await fetch(`${url}/`);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("connect-src 'self'");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
  });
});
