/**
 * What counts as a declaration in each parsed language, by tree-sitter node
 * type, and how it is named in a chunk's section: the kind and name of a type
 * ("class Store", "impl Store for Qdrant"), the signature of a function
 * ("def search(self, query)", "func Store.Search(ctx context.Context)").
 * Node types are those of the grammars in @vscode/tree-sitter-wasm.
 */
import type { Node } from 'web-tree-sitter';

export interface Declaration {
  label: string;
  /** The node whose named children are its members (methods, nested types), for a container. */
  body?: Node | null;
  /** A function's statement block: where an oversized function is cut (chunk-source-tree.ts). */
  block?: Node | null;
}

type Rule = (node: Node) => Declaration | null;

export interface Grammar {
  /** Grammar file name in @vscode/tree-sitter-wasm/wasm: tree-sitter-<wasm>.wasm. */
  wasm: string;
  /** Node types that belong to the declaration below them: comments, decorators, attributes. */
  attached: ReadonlySet<string>;
  /** Member-list nodes whose own children are members too (a Java enum's methods). */
  flatten?: ReadonlySet<string>;
  rules: Readonly<Record<string, Rule>>;
}

const MAX_SIGNATURE = 80;

/** One line, at most MAX_SIGNATURE characters: sections are labels, the chunk has the full text. */
function compact(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_SIGNATURE ? `${line.slice(0, MAX_SIGNATURE - 1)}…` : line;
}

const field = (node: Node, name: string): Node | null => node.childForFieldName(name);
const text = (node: Node | null): string => (node ? compact(node.text) : '');

/**
 * Statement lists of function bodies across the grammars (JavaScript's
 * statement_block, Python's, Go's and Rust's block, C's compound_statement,
 * Ruby's body_statement…). An arrow function's expression body is none.
 */
const STATEMENT_BLOCKS = new Set(['statement_block', 'block', 'constructor_body', 'compound_statement', 'body_statement']);

/** The statement block of a function node, or null. */
function blockOf(node: Node | null): Node | null {
  const body = node && field(node, 'body');
  return body && STATEMENT_BLOCKS.has(body.type) ? body : null;
}

/** `keyword name(params)`; the parameters only where the node has them. */
function signature(keyword: string, node: Node, name = text(field(node, 'name'))): string {
  const params = field(node, 'parameters');
  return compact(`${keyword} ${name}${params ? params.text : ''}`);
}

/** A declaration named `keyword name(params)`; a container when `body` names its member list's field. */
function named(keyword: string, body?: string): Rule {
  return (node) => (body ? { label: signature(keyword, node), body: field(node, body) } : { label: signature(keyword, node), block: blockOf(node) });
}

/** The declaration a wrapper node carries (export, decorators, templates), found by `rules`. */
function unwrap(rules: () => Readonly<Record<string, Rule>>, inner: (node: Node) => Node | null | undefined): Rule {
  return (node) => {
    const child = inner(node);
    const rule = child && rules()[child.type];
    return child && rule ? rule(child) : null;
  };
}

const firstNamed = (node: Node): Node | null => node.namedChild(0);

// ---- TypeScript and JavaScript -------------------------------------------

const FUNCTION_VALUES = new Set(['arrow_function', 'function_expression', 'function', 'generator_function']);

/** `const x = …`: a function when its value is one, an import when it is require(…), else a constant. */
const variable: Rule = (node) => {
  const declarator = node.namedChildren.find((c) => c.type === 'variable_declarator');
  const value = declarator && field(declarator, 'value');
  const name = text(declarator ? field(declarator, 'name') : null);
  if (!declarator || !name) return null;
  if (value?.type === 'call_expression' && text(field(value, 'function')) === 'require') return null;
  if (value && FUNCTION_VALUES.has(value.type)) return { label: signature('function', value, name), block: blockOf(value) };
  if (value?.type === 'class') return { label: `class ${name}`, body: field(value, 'body') };
  return { label: `${node.child(0)?.type ?? 'const'} ${name}` };
};

/** A class member: `name(params)`, with `get`/`set`/`static` kept (they change what the name means). */
const method: Rule = (node) => {
  const keywords = node.children.filter((c) => c.type === 'get' || c.type === 'set' || c.type === 'static').map((c) => c.type);
  return { label: signature(keywords.join(' '), node), block: blockOf(node) };
};

/** A class field holding a function (`handle = async (e) => {…}`) is a method. */
const fieldFunction: Rule = (node) => {
  const value = field(node, 'value');
  // TypeScript names the field `name`, JavaScript `property`.
  const name = text(field(node, 'name') ?? field(node, 'property'));
  return value && FUNCTION_VALUES.has(value.type) ? { label: signature('', value, name), block: blockOf(value) } : null;
};

/**
 * `Runner.prototype.run = function (fn) {…}`, `exports.lookup = (name) => …`,
 * `module.exports = class Base {…}`: CommonJS and prototype-style code
 * declares by assignment. Named by the assigned path; any other assignment is
 * code like the rest of the top level.
 */
const assigned: Rule = (node) => {
  const value = field(node, 'right');
  const name = text(field(node, 'left'));
  if (!value || !name) return null;
  if (FUNCTION_VALUES.has(value.type)) return { label: signature('function', value, name), block: blockOf(value) };
  if (value.type === 'class') return { label: `class ${text(field(value, 'name')) || name}`, body: field(value, 'body') };
  return null;
};

const exported: Rule = (node) => {
  const declaration = field(node, 'declaration');
  if (declaration) return tsRules[declaration.type]?.(declaration) ?? null;
  const value = field(node, 'value');
  if (!value) return null;
  if (FUNCTION_VALUES.has(value.type)) return { label: signature('export default function', value, ''), block: blockOf(value) };
  if (value.type === 'class') return { label: `export default class ${text(field(value, 'name'))}`.trim(), body: field(value, 'body') };
  return null;
};

const tsRules: Readonly<Record<string, Rule>> = {
  function_declaration: named('function'),
  generator_function_declaration: named('function*'),
  function_signature: named('function'),
  class_declaration: named('class', 'body'),
  abstract_class_declaration: named('abstract class', 'body'),
  interface_declaration: named('interface', 'body'),
  enum_declaration: named('enum'),
  type_alias_declaration: named('type'),
  internal_module: named('namespace', 'body'),
  module: named('module', 'body'),
  lexical_declaration: variable,
  variable_declaration: variable,
  method_definition: method,
  method_signature: method,
  abstract_method_signature: method,
  public_field_definition: fieldFunction,
  field_definition: fieldFunction,
  export_statement: exported,
  ambient_declaration: unwrap(() => tsRules, firstNamed),
  // `namespace X {}` and `Runner.prototype.run = function …` parse as expression statements.
  expression_statement: (node) => {
    const child = firstNamed(node);
    if (child?.type === 'internal_module') return tsRules.internal_module?.(child) ?? null;
    return child?.type === 'assignment_expression' ? assigned(child) : null;
  },
};

const C_COMMENTS = ['comment', 'line_comment', 'block_comment'];

const typescript: Grammar = { wasm: 'typescript', attached: new Set([...C_COMMENTS, 'decorator']), rules: tsRules };

// ---- Python ----------------------------------------------------------------

const pyRules: Readonly<Record<string, Rule>> = {
  function_definition: named('def'),
  class_definition: named('class', 'body'),
  decorated_definition: unwrap(() => pyRules, (node) => field(node, 'definition')),
};
const python: Grammar = { wasm: 'python', attached: new Set(['comment']), rules: pyRules };

// ---- Go --------------------------------------------------------------------

/** `func Store.Search(…)`: the receiver's type without pointer or type parameters. */
const goMethod: Rule = (node) => {
  const receiver = field(node, 'receiver')?.namedChildren.find((c) => c.type === 'parameter_declaration');
  const type = text(receiver ? field(receiver, 'type') : null).replace(/^\*/, '').replace(/\[.*$/, '');
  return { label: signature('func', node, `${type}.${text(field(node, 'name'))}`), block: blockOf(node) };
};

/** `type Store`, or `var (a, b, …)` for a grouped declaration. */
function goSpecs(keyword: string): Rule {
  return (node) => {
    const specs = node.namedChildren.flatMap((c) => (c.type.endsWith('_spec_list') ? c.namedChildren : [c]));
    const names = specs.flatMap((s) => {
      const name = field(s, 'name');
      return s.type.endsWith('_spec') || s.type === 'type_alias' ? [text(name)] : [];
    });
    if (names.length === 0) return null;
    const [only] = names;
    return { label: names.length === 1 && only ? `${keyword} ${only}` : `${keyword} (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})` };
  };
}

const go: Grammar = {
  wasm: 'go',
  attached: new Set(['comment']),
  // A Go block holds its statements in a statement_list.
  flatten: new Set(['statement_list']),
  rules: {
    function_declaration: named('func'),
    method_declaration: goMethod,
    type_declaration: goSpecs('type'),
    var_declaration: goSpecs('var'),
    const_declaration: goSpecs('const'),
  },
};

// ---- Rust ------------------------------------------------------------------

const rustImpl: Rule = (node) => {
  const trait = field(node, 'trait');
  const type = text(field(node, 'type'));
  return { label: trait ? `impl ${text(trait)} for ${type}` : `impl ${type}`, body: field(node, 'body') };
};

const rust: Grammar = {
  wasm: 'rust',
  attached: new Set([...C_COMMENTS, 'attribute_item']),
  rules: {
    function_item: named('fn'),
    function_signature_item: named('fn'),
    struct_item: named('struct'),
    enum_item: named('enum'),
    union_item: named('union'),
    type_item: named('type'),
    const_item: named('const'),
    static_item: named('static'),
    trait_item: named('trait', 'body'),
    mod_item: named('mod', 'body'),
    impl_item: rustImpl,
    macro_definition: named('macro_rules!'),
  },
};

// ---- Java and C# ------------------------------------------------------------

const javaTypes = {
  class_declaration: named('class', 'body'),
  interface_declaration: named('interface', 'body'),
  enum_declaration: named('enum', 'body'),
  record_declaration: named('record', 'body'),
};

const java: Grammar = {
  wasm: 'java',
  attached: new Set(C_COMMENTS),
  flatten: new Set(['enum_body_declarations']),
  rules: {
    ...javaTypes,
    annotation_type_declaration: named('@interface', 'body'),
    method_declaration: named(''),
    constructor_declaration: named(''),
    compact_constructor_declaration: named(''),
  },
};

const csharp: Grammar = {
  wasm: 'c-sharp',
  attached: new Set(C_COMMENTS),
  rules: {
    ...javaTypes,
    namespace_declaration: named('namespace', 'body'),
    struct_declaration: named('struct', 'body'),
    delegate_declaration: named('delegate'),
    method_declaration: named(''),
    constructor_declaration: named(''),
    destructor_declaration: named('~'),
    local_function_statement: named(''),
    property_declaration: named(''),
  },
};

// ---- PHP, Ruby, shell ---------------------------------------------------------

const php: Grammar = {
  wasm: 'php',
  attached: new Set(['comment']),
  rules: {
    function_definition: named('function'),
    class_declaration: named('class', 'body'),
    interface_declaration: named('interface', 'body'),
    trait_declaration: named('trait', 'body'),
    enum_declaration: named('enum', 'body'),
    method_declaration: named('function'),
  },
};

const ruby: Grammar = {
  wasm: 'ruby',
  attached: new Set(['comment']),
  rules: {
    method: named('def'),
    singleton_method: (node) => ({
      label: signature('def', node, `${text(field(node, 'object'))}.${text(field(node, 'name'))}`),
      block: blockOf(node),
    }),
    class: named('class', 'body'),
    module: named('module', 'body'),
    singleton_class: (node) => ({ label: 'class << self', body: field(node, 'body') }),
  },
};

const bash: Grammar = { wasm: 'bash', attached: new Set(['comment']), rules: { function_definition: named('function') } };

// ---- C and C++ ---------------------------------------------------------------

/** The function_declarator under pointer and reference declarators: `*make(int a)`. */
function functionDeclarator(node: Node | null): Node | null {
  for (let n = node; n; n = field(n, 'declarator')) if (n.type === 'function_declarator') return n;
  return null;
}

const cFunction: Rule = (node) => {
  const declarator = functionDeclarator(field(node, 'declarator'));
  return declarator ? { label: signature('', declarator, text(field(declarator, 'declarator'))), block: blockOf(node) } : null;
};

/** A struct, class, union or enum with a body; a bare `struct x;` is no declaration. */
function record(keyword: string, container: boolean): Rule {
  return (node) => {
    const body = field(node, 'body');
    return body ? { label: `${keyword} ${text(field(node, 'name'))}`.trim(), body: container ? body : null } : null;
  };
}

const cppRules: Readonly<Record<string, Rule>> = {
  function_definition: cFunction,
  class_specifier: record('class', true),
  struct_specifier: record('struct', true),
  union_specifier: record('union', false),
  enum_specifier: record('enum', false),
  type_definition: unwrap(() => cppRules, (node) => field(node, 'type')),
  namespace_definition: named('namespace', 'body'),
  linkage_specification: (node) => ({ label: `extern ${text(field(node, 'value'))}`, body: field(node, 'body') }),
  template_declaration: unwrap(() => cppRules, (node) => node.namedChildren.find((c) => c.type !== 'template_parameter_list')),
};

// The C++ grammar reads C too (C's own grammar is not in the package); C code
// that uses C++ keywords as names only costs a parse error around them.
const cpp: Grammar = { wasm: 'cpp', attached: new Set(['comment']), rules: cppRules };

const GRAMMARS: Readonly<Record<string, Grammar>> = {
  typescript,
  javascript: { ...typescript, wasm: 'javascript' },
  python,
  go,
  rust,
  java,
  csharp,
  php,
  ruby,
  shell: bash,
  c: cpp,
  cpp,
};

/** The grammar for a language (file-types.ts names); `.tsx` files need the TSX dialect. */
export function grammarFor(language: string, fileName: string): Grammar | undefined {
  const grammar = GRAMMARS[language];
  return grammar === typescript && /\.tsx$/i.test(fileName) ? { ...typescript, wasm: 'tsx' } : grammar;
}
