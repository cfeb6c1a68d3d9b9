import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ENGINE_ALLOCATOR_ENV, withAllocatorEnv } from "../../src/setup/allocator.ts";

const ROOT = join(import.meta.dir, "../..");

test("the start script sets every allocator setting the bench's engine gets, with the same default, unless the environment has it", () => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  const start = scripts.start ?? "";
  expect(Object.keys(ENGINE_ALLOCATOR_ENV).length).toBeGreaterThan(0);
  for (const [name, value] of Object.entries(ENGINE_ALLOCATOR_ENV)) expect(start).toContain(`${name}=\${${name}:-${value}} `);
  expect(start.endsWith("bun src/cli/start.ts")).toBe(true);
});

test("withAllocatorEnv adds the settings and keeps a value the environment already has", () => {
  const [name, value] = Object.entries(ENGINE_ALLOCATOR_ENV)[0] as [string, string];
  expect(withAllocatorEnv({ PATH: "/bin" })).toEqual({ PATH: "/bin", ...ENGINE_ALLOCATOR_ENV });
  expect(withAllocatorEnv({ [name]: "250" })[name]).toBe("250");
  expect(value).not.toBe("250");
});
