/**
 * web-tree-sitter and its grammars, loaded once per process on first use.
 *
 * Why web-tree-sitter: it is the WebAssembly build of the parser editors use,
 * error-tolerant (a file with a syntax error still yields a tree for the rest),
 * and it needs no native build, so it runs on every Node the server supports.
 * Grammars come prebuilt from @vscode/tree-sitter-wasm (the set VS Code ships):
 * its .wasm files load with web-tree-sitter 0.27, while tree-sitter-wasms's
 * older builds fail its dylink check (measured: every one of them throws).
 *
 * The .wasm files are resolved from node_modules at run time, relative to this
 * module: the server bundle keeps packages external (scripts/build.mjs), so
 * dist/server/*.js, the test bundles and the Docker image all find them there.
 */
import { createRequire } from 'node:module';
import { Language, Parser } from 'web-tree-sitter';

const require = createRequire(import.meta.url);

let runtime: Promise<void> | undefined;
const parsers = new Map<string, Promise<Parser>>();

function loadParser(grammar: string): Promise<Parser> {
  runtime ??= Parser.init().catch((e: unknown) => {
    runtime = undefined;
    throw e;
  });
  return runtime.then(async () => {
    const language = await Language.load(require.resolve(`@vscode/tree-sitter-wasm/wasm/tree-sitter-${grammar}.wasm`));
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  });
}

/**
 * The parser for a grammar of @vscode/tree-sitter-wasm ("typescript", "c-sharp"…).
 * One parser per grammar is reused: parsing is synchronous, so no two parses
 * of one parser ever interleave.
 */
export function parserFor(grammar: string): Promise<Parser> {
  let parser = parsers.get(grammar);
  if (!parser) {
    parser = loadParser(grammar);
    // A failed load is not cached: the next file tries again.
    parser.catch(() => parsers.delete(grammar));
    parsers.set(grammar, parser);
  }
  return parser;
}
