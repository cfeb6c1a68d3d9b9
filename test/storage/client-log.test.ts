import { expect, test } from "bun:test";
import pino from "pino";
import { configWith } from "../../src/config/load.ts";
import { createClickHouse } from "../../src/storage/client.ts";

test("the ClickHouse client's own log lines go to the engine's pino logger, with the client's module and error", async () => {
  const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const url = `http://127.0.0.1:${closed.port}`;
  closed.stop(true);
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const cfg = { ...configWith({}).clickhouse, url, request_timeout_ms: 2000 };
  const client = createClickHouse(cfg, "/nonexistent", log);
  await expect(client.command({ query: "SELECT 1" })).rejects.toThrow();
  await client.close();
  const errors = lines.filter((l) => l.level === 50);
  expect(errors.length).toBeGreaterThan(0);
  expect(errors[0]).toMatchObject({ module: expect.any(String), msg: expect.stringContaining("request error") });
  expect(errors[0]?.err).toMatchObject({ message: expect.stringContaining("ECONNREFUSED") });
});
