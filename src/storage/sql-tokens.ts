/**
 * Tokens of a statement as ClickHouse's own formatter prints it (`formatQuerySingleLine`):
 * no comments, string literals in single quotes and identifiers that need quoting in
 * backquotes, both with backslash escapes. The query guard reads these tokens only for what
 * `EXPLAIN AST` does not print (an `INTO OUTFILE` clause, CTE names, quoted identifiers), so
 * nothing inside a string literal is ever taken for a keyword.
 */

export type SqlToken =
  | { readonly kind: "word"; readonly text: string }
  /** A backquoted identifier; `text` is as printed, between the quotes, escapes kept. */
  | { readonly kind: "quoted"; readonly text: string }
  | { readonly kind: "string" }
  | { readonly kind: "punct"; readonly text: string };

const WORD = /[A-Za-z0-9_$]/;

/** The tokens of formatter output `sql`; null when a quote is left open. */
export function sqlTokens(sql: string): SqlToken[] | null {
  const tokens: SqlToken[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
    } else if (c === "'" || c === "`") {
      const start = i + 1;
      let j = start;
      while (j < sql.length && sql[j] !== c) j += sql[j] === "\\" ? 2 : 1;
      if (j >= sql.length) return null;
      tokens.push(c === "'" ? { kind: "string" } : { kind: "quoted", text: sql.slice(start, j) });
      i = j + 1;
    } else if (WORD.test(c)) {
      let j = i + 1;
      while (j < sql.length && WORD.test(sql[j] as string)) j++;
      tokens.push({ kind: "word", text: sql.slice(i, j) });
      i = j;
    } else {
      tokens.push({ kind: "punct", text: c });
      i++;
    }
  }
  return tokens;
}

/** Whether `t` is the bare word `word` (any case). */
export function isWord(t: SqlToken | undefined, word: string): boolean {
  return t !== undefined && t.kind === "word" && t.text.toUpperCase() === word;
}

/** The name of an identifier token (bare word or backquoted), else undefined. */
export function identifierText(t: SqlToken | undefined): string | undefined {
  return t !== undefined && (t.kind === "word" || t.kind === "quoted") ? t.text : undefined;
}
