import { expect, test } from "bun:test";
import pino from "pino";
import { configWith } from "../../src/config/load.ts";
import { openTieringClients } from "../../src/tiering/clients.ts";
import { TieringUsageError } from "../../src/tiering/errors.ts";

const log = pino({ level: "silent" });
const remote = (tiering: object) =>
  configWith({
    clickhouse: { url: "http://hot.example:8123", user: "tier", password: "pw" },
    tiering: { mode: "remote", cold_url: "http://cold.example:8123", ...tiering },
  });

test("remote mode points remote() at the hot server's host and its configured native port, not the HTTP one", async () => {
  const clients = openTieringClients(remote({ hot_native_port: 19000 }), log);
  expect(clients.databases.hot_remote).toEqual({ address: "hot.example:19000", user: "tier", password: "pw" });
  await clients.close();
  const defaults = openTieringClients(remote({}), log);
  expect(defaults.databases.hot_remote?.address).toBe("hot.example:9000");
  await defaults.close();
});

test("remote mode without a hot server URL is refused", () => {
  expect(() => openTieringClients(configWith({ tiering: { mode: "remote", cold_url: "http://cold.example:8123" } }), log)).toThrow(TieringUsageError);
});
