import type { ClickHouseClient } from "@clickhouse/client";
import { type AstNode, functionName, parseExplainAst, walkAst } from "./explain-ast.ts";
import { clickHouseErrorOf } from "./insert-errors.ts";
import { identifierText, isWord, type SqlToken, sqlTokens } from "./sql-tokens.ts";

/**
 * Decides, before anything runs, whether a statement sent to `POST /query` or `bun run query`
 * is one read: SELECT, WITH … SELECT, SHOW, DESCRIBE, EXPLAIN or EXISTS, FORMAT allowed.
 *
 * `readonly = 1` alone does not make embedded ClickHouse (chDB, i.e. clickhouse-local) safe:
 * it still writes `INTO OUTFILE`, reads any file through the `file()` function, and its
 * `default` database (engine Overlay) reads an unknown table name as a file path
 * (`SELECT * FROM \`/etc/passwd\``). So ClickHouse's own parser decides:
 * 1. `formatQuerySingleLine` gets the SQL as a bound parameter (never spliced into SQL), refuses
 *    more than one statement, drops comments and prints one canonical spelling;
 * 2. `EXPLAIN AST` of that canonical text gives the parse tree, which only parses;
 * 3. the rules below walk the tree (statement kind, functions, table functions, table names,
 *    SETTINGS) and the canonical tokens (INTO OUTFILE, CTE names, quoted identifiers);
 * 4. the canonical text, exactly what was checked, is what runs.
 */

export type GuardVerdict =
  | { readonly verdict: "run"; readonly sql: string }
  | { readonly verdict: "refused"; readonly what: string; readonly why: string }
  /** A guard step failed in ClickHouse (a syntax error, …); `error` is the client's error. */
  | { readonly verdict: "failed"; readonly error: unknown };

/** Statement kinds (the root row of `EXPLAIN AST`) that only read. */
const READ_STATEMENTS: ReadonlySet<string> = new Set([
  "SelectWithUnionQuery",
  "ShowTables", // SHOW TABLES / DATABASES / DICTIONARIES / SETTINGS / CLUSTERS
  "ShowColumns", // SHOW COLUMNS / INDEXES
  "ShowFunctions",
  "ShowEngineQuery",
  "ShowProcesslistQuery",
  "ShowCreateTableQuery",
  "ShowCreateViewQuery",
  "ShowCreateDictionaryQuery",
  "ShowCreateDatabaseQuery",
  "DescribeQuery",
  "ExistsTableQuery",
  "ExistsViewQuery",
  "ExistsDictionaryQuery",
  "ExistsDatabaseQuery",
  "Explain",
]);

/** Statements whose children are the (database, table) identifiers they name. */
const NAMES_A_TABLE: ReadonlySet<string> = new Set(["ShowCreateTableQuery", "ShowCreateViewQuery", "ExistsTableQuery", "ExistsViewQuery"]);

const EXPLAIN_KINDS: ReadonlySet<string> = new Set([
  "EXPLAIN",
  "EXPLAIN AST",
  "EXPLAIN SYNTAX",
  "EXPLAIN QUERY TREE",
  "EXPLAIN PLAN",
  "EXPLAIN PIPELINE",
  "EXPLAIN ESTIMATE",
]);

const FIRST_WORDS: ReadonlySet<string> = new Set(["SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS"]);

/** Table functions that compute their rows and reach nothing outside the query (lower case). */
export const ALLOWED_TABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  "numbers",
  "numbers_mt",
  "zeros",
  "zeros_mt",
  "values",
  "sqlstandardvalues", // `FROM (VALUES …)`
  "generateseries",
  "generate_series",
  "generaterandom",
  "primes",
  "view", // its subquery is part of the tree and checked like the rest
]);

/**
 * Scalar functions that read files or models from a path, or reach a table or dictionary by a
 * name given as a string (which the table-name rule below cannot see). Lower case; a name
 * ending in `*` is a prefix.
 */
const DENIED_FUNCTIONS: readonly string[] = ["file", "catboostevaluate", "naivebayes*", "dictget*", "dicthas", "dictisin", "joinget*", "hascolumnintable"];

/** `x IN t`: the right side of these names a table. */
const IN_FUNCTION = /^(global)?(not)?(null)?in$/i;

/** Database engines that only hold tables created in them; any other may read names as paths. */
const CONTAINED_ENGINES: ReadonlySet<string> = new Set(["Atomic", "Ordinary", "Memory", "Lazy", "Replicated"]);

/** Runs `sql` and returns its rows as JSON objects; settings readonly = 1 like every guard query. */
async function rows<T>(client: ClickHouseClient, sql: string, params: Record<string, unknown> = {}): Promise<T[]> {
  const rs = await client.query({ query: sql, query_params: params, format: "JSONEachRow", clickhouse_settings: { readonly: "1" } });
  return rs.json<T>();
}

/**
 * Output of `sql` as TabSeparatedRaw: one node a line, as EXPLAIN prints it. Through `exec`,
 * because `query` appends a FORMAT clause to the SQL, which would be explained with the rest.
 */
async function rawText(client: ClickHouseClient, sql: string, query_params: Readonly<Record<string, string>> = {}): Promise<string> {
  const result = await client.exec({ query: sql, query_params, clickhouse_settings: { readonly: "1", default_format: "TabSeparatedRaw" } });
  const chunks: Buffer[] = [];
  for await (const chunk of result.stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString();
}

function refused(what: string, why: string): GuardVerdict {
  return { verdict: "refused", what, why };
}

/** What a statement runs with beyond its text. */
export interface GuardScope {
  /** What unqualified table names resolve in; the client's own current database when absent. */
  readonly current_database?: string;
  /**
   * Values of the statement's `{name:Type}` parameters: the parse tree is read with them
   * substituted (ClickHouse substitutes before EXPLAIN), so an `Identifier` parameter is checked
   * as the table name it becomes.
   */
  readonly query_params?: Readonly<Record<string, string>>;
}

export async function guardReadQuery(client: ClickHouseClient, sql: string, scope: GuardScope = {}): Promise<GuardVerdict> {
  let canonical: string;
  try {
    const [row] = await rows<{ f: string }>(client, "SELECT formatQuerySingleLine({q:String}) AS f", { q: sql });
    if (row === undefined) return refused("the statement", "ClickHouse's formatter returned nothing for it");
    canonical = row.f;
  } catch (error) {
    const ch = clickHouseErrorOf(error);
    if (ch !== undefined && ch.message.includes("Multi-statements are not allowed")) {
      return refused("more than one statement", "send one read statement per request");
    }
    return { verdict: "failed", error };
  }

  const tokens = sqlTokens(canonical);
  if (tokens === null) return refused("the statement", "its canonical form could not be read");
  const tokenVerdict = checkTokens(tokens);
  if (tokenVerdict !== null) return tokenVerdict;

  let tree: AstNode | null;
  try {
    tree = parseExplainAst((await rawText(client, `EXPLAIN AST ${canonical}`, scope.query_params)).split("\n"));
  } catch (error) {
    if (clickHouseErrorOf(error)?.code === 164) {
      return refused("a SETTINGS clause", "this endpoint runs with readonly = 1 and changes no setting");
    }
    return { verdict: "failed", error };
  }
  if (tree === null) return refused("the statement", "ClickHouse's parse tree of it could not be read");

  const treeVerdict = checkTree(tree);
  if (!("refs" in treeVerdict)) return treeVerdict;
  const refVerdict = await checkTableRefs(client, treeVerdict.refs, cteNames(tokens, tree), tokens, scope.current_database);
  if (refVerdict !== null) return refVerdict;
  const tableFunctionVerdict = await checkTableFunctionNames(client, tree);
  if (tableFunctionVerdict !== null) return tableFunctionVerdict;
  return { verdict: "run", sql: canonical };
}

function checkTokens(tokens: readonly SqlToken[]): GuardVerdict | null {
  const first = tokens[0];
  if (!(first?.kind === "punct" && first.text === "(") && !(first?.kind === "word" && FIRST_WORDS.has(first.text.toUpperCase()))) {
    const word = first?.kind === "word" ? first.text.toUpperCase() : "this";
    return refused(`${word} statement`, "only one read statement (SELECT, WITH … SELECT, SHOW, DESCRIBE, EXPLAIN, EXISTS) runs here");
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (isWord(t, "INTO") && isWord(tokens[i + 1], "OUTFILE")) return refused("INTO OUTFILE", "it writes a file on the engine's host");
    if (t?.kind === "quoted" && /[\\()]/.test(t.text)) {
      return refused("a quoted name with an escape sequence or a parenthesis", "such names could disguise the parse tree this check reads");
    }
  }
  return null;
}

/** A table the statement reads by name: `database` undefined means the current database. */
interface TableRef {
  readonly database: string | undefined;
  readonly table: string;
  /** The name as the statement printed it, for messages. */
  readonly printed: string;
}

function checkTree(root: AstNode): GuardVerdict | { readonly refs: TableRef[] } {
  if (!READ_STATEMENTS.has(root.kind)) {
    return refused(`statement ${root.kind}`, "only one read statement (SELECT, WITH … SELECT, SHOW, DESCRIBE, EXPLAIN, EXISTS) runs here");
  }
  let statement = root;
  if (root.kind === "Explain") {
    if (!EXPLAIN_KINDS.has(root.detail)) return refused(root.detail, `only ${[...EXPLAIN_KINDS].join(", ")} of a read statement run here`);
    const inner = root.children.filter((c) => c.kind !== "Identifier" && c.kind !== "Set");
    const only = inner[0];
    if (inner.length !== 1 || only === undefined || only.kind === "Explain" || !READ_STATEMENTS.has(only.kind)) {
      return refused(`${root.detail} of statement ${only?.kind ?? "(none)"}`, "EXPLAIN runs here only around one read statement");
    }
    statement = only;
  }
  const refs: TableRef[] = [];
  if (NAMES_A_TABLE.has(statement.kind)) {
    const [a, b] = statement.children.filter((c) => c.kind === "Identifier").map((c) => c.detail);
    if (a !== undefined) refs.push(b === undefined ? { database: undefined, table: a, printed: a } : { database: a, table: b, printed: `${a}.${b}` });
  }
  for (const node of walkAst(root)) {
    if (node.kind === "Set" && !(node.parent === root && root.kind === "Explain" && root.children[0] === node)) {
      return refused("a SETTINGS clause", "this endpoint runs with readonly = 1 and changes no setting");
    }
    if (node.kind === "Literal" && node.parent !== null && READ_STATEMENTS.has(node.parent.kind) && node.parent.kind !== "Explain") {
      return refused("INTO OUTFILE", "it writes a file on the engine's host");
    }
    if (node.kind === "TableIdentifier") refs.push(tableRef(node.detail));
    if (node.kind !== "Function") continue;
    const name = functionName(node);
    const lower = name.toLowerCase();
    if (node.parent?.kind === "TableExpression" && !ALLOWED_TABLE_FUNCTIONS.has(lower)) {
      return refused(`table function ${name}()`, `table functions that reach files, the network or other processes are refused; allowed: ${[...ALLOWED_TABLE_FUNCTIONS].join(", ")}`);
    }
    if (DENIED_FUNCTIONS.some((d) => (d.endsWith("*") ? lower.startsWith(d.slice(0, -1)) : lower === d))) {
      return refused(`function ${name}()`, "it reads files, models, dictionaries or tables named by a string");
    }
    const right = IN_FUNCTION.test(name) ? node.children[0]?.children[1] : undefined;
    if (right?.kind === "Identifier") refs.push(tableRef(right.detail));
  }
  return { refs };
}

/** `db.table (alias a)` or `table` as `EXPLAIN AST` prints a TableIdentifier. */
function tableRef(detail: string): TableRef {
  const printed = detail.replace(/ \(alias [^()]*\)$/, "");
  const dot = printed.indexOf(".");
  return dot < 0 ? { database: undefined, table: printed, printed } : { database: printed.slice(0, dot), table: printed.slice(dot + 1), printed };
}

/**
 * Names of the CTEs (`WITH name AS (subquery)`) of a statement that starts with WITH and is a
 * single SELECT: those are in scope for every table name in it. CTEs anywhere else are not
 * counted, so a name outside their scope is never mistaken for one.
 */
function cteNames(tokens: readonly SqlToken[], root: AstNode): ReadonlySet<string> {
  const names = new Set<string>();
  const selects = root.kind === "SelectWithUnionQuery" ? root.children[0]?.children : undefined;
  if (!isWord(tokens[0], "WITH") || selects?.length !== 1) return names;
  let depth = 0;
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i];
    if (t?.kind === "punct" && t.text === "(") depth++;
    else if (t?.kind === "punct" && t.text === ")") depth--;
    else if (depth === 0 && isWord(t, "SELECT")) break;
    const name = identifierText(t);
    const next = tokens[i + 1];
    if (depth === 0 && name !== undefined && isWord(next, "AS") && tokens[i + 2]?.kind === "punct" && (tokens[i + 2] as { text: string }).text === "(") {
      names.add(name);
    }
  }
  return names;
}

async function checkTableRefs(
  client: ClickHouseClient,
  refs: readonly TableRef[],
  ctes: ReadonlySet<string>,
  tokens: readonly SqlToken[],
  current_database: string | undefined,
): Promise<GuardVerdict | null> {
  if (refs.length === 0) return null;
  const dottedQuoted = tokens.some((t) => t.kind === "quoted" && t.text.includes("."));
  const databases = await rows<{ name: string; engine: string; current: number }>(client, "SELECT name, engine, name = currentDatabase() AS current FROM system.databases");
  const current = current_database ?? databases.find((d) => d.current === 1)?.name ?? "default";
  const open = new Set(databases.filter((d) => !CONTAINED_ENGINES.has(d.engine)).map((d) => d.name));
  const tables = new Set(
    open.size === 0
      ? []
      : (await rows<{ database: string; name: string }>(client, "SELECT database, name FROM system.tables WHERE database IN {dbs:Array(String)}", { dbs: [...open] })).map(
          (t) => `${t.database}\u0000${t.name}`,
        ),
  );
  for (const ref of refs) {
    if (ref.database !== undefined && dottedQuoted) {
      return refused(`table name ${ref.printed}`, "a quoted name holding a dot makes database and table ambiguous here; name tables as database.table without quotes");
    }
    const database = ref.database ?? current;
    if (!open.has(database)) continue;
    const plain = !ref.table.includes("/") && !ref.table.includes(".");
    if (ref.database === undefined && plain && ctes.has(ref.table)) continue;
    if (!tables.has(`${database}\u0000${ref.table}`)) {
      return refused(`table name ${ref.printed}`, `database ${database} has no such table and embedded ClickHouse would read the name as a file path`);
    }
  }
  return null;
}

/** Table functions called where a scalar is expected (`x IN url(…)`) are refused as well. */
async function checkTableFunctionNames(client: ClickHouseClient, root: AstNode): Promise<GuardVerdict | null> {
  const called = new Map<string, string>();
  for (const node of walkAst(root)) {
    if (node.kind === "Function" && node.parent?.kind !== "TableExpression") called.set(functionName(node).toLowerCase(), functionName(node));
  }
  if (called.size === 0) return null;
  const scalar = await rows<{ name: string; scalar: number }>(
    client,
    "SELECT name, lower(name) IN (SELECT lower(name) FROM system.functions) AS scalar FROM system.table_functions WHERE lower(name) IN {names:Array(String)}",
    { names: [...called.keys()] },
  );
  for (const tf of scalar) {
    const lower = tf.name.toLowerCase();
    // `format(…)` and `fuzzQuery(…)` are also harmless scalar functions; `file` is denied above.
    if (tf.scalar === 1 || ALLOWED_TABLE_FUNCTIONS.has(lower)) continue;
    return refused(`table function ${called.get(lower) ?? tf.name}()`, "table functions that reach files, the network or other processes are refused");
  }
  return null;
}
