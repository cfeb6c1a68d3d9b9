/**
 * The tree that ClickHouse's `EXPLAIN AST` prints, one row per node, children indented one
 * space deeper than their parent: `Function file (alias t) (children 1)`.
 *
 * Rows are split on line breaks by ClickHouse, and a quoted identifier may hold one, which
 * would print as extra rows. The query guard refuses quoted identifiers with escapes before it
 * asks for the tree (src/storage/query-guard.ts), so every row here is a real node and the
 * indentation alone gives the structure (the `(children N)` suffix is not trusted: an
 * identifier may contain that text).
 */

export interface AstNode {
  /** First word of the row: `SelectWithUnionQuery`, `Function`, `TableIdentifier`, … */
  readonly kind: string;
  /** The row after the kind, without the `(children N)` suffix: a name, `EXPLAIN AST`, … */
  readonly detail: string;
  readonly children: AstNode[];
  readonly parent: AstNode | null;
}

const CHILDREN_SUFFIX = / \(children \d+\)$/;

/** The root of the tree printed as `rows`; null when the rows do not form one tree. */
export function parseExplainAst(rows: readonly string[]): AstNode | null {
  let root: AstNode | null = null;
  const stack: AstNode[] = [];
  for (const row of rows) {
    if (row.trim() === "") continue;
    const depth = row.length - row.trimStart().length;
    const body = row.trim().replace(CHILDREN_SUFFIX, "");
    const space = body.indexOf(" ");
    const kind = space < 0 ? body : body.slice(0, space);
    const detail = space < 0 ? "" : body.slice(space + 1).trim();
    if (depth === 0) {
      if (root !== null) return null;
      root = { kind, detail, children: [], parent: null };
      stack.length = 0;
      stack.push(root);
      continue;
    }
    if (depth > stack.length) return null;
    stack.length = depth;
    const parent = stack[depth - 1];
    if (parent === undefined) return null;
    const node: AstNode = { kind, detail, children: [], parent };
    parent.children.push(node);
    stack.push(node);
  }
  return root;
}

/** Every node of the tree, depth first. */
export function* walkAst(root: AstNode): Generator<AstNode> {
  const pending: AstNode[] = [root];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    yield node;
    for (let i = node.children.length - 1; i >= 0; i--) pending.push(node.children[i] as AstNode);
  }
}

/** The name in a `Function name (alias x)` row. */
export function functionName(node: AstNode): string {
  const cut = node.detail.indexOf(" (");
  return cut < 0 ? node.detail : node.detail.slice(0, cut);
}
