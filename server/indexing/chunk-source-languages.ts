/**
 * Declaration starts for the languages no loadable tree-sitter grammar covers
 * (chunk-source-grammars.ts has the parsed ones). These are line regexes, not
 * parsers: they are matched against a line with its indentation removed, at
 * top level (indent 0) or at member level inside a container that is being
 * split. Misses only cost chunk quality, never content.
 */

export interface DeclPattern {
  re: RegExp;
  /** Section name of the declaration, e.g. "class Store" or "impl Store for Qdrant". */
  label: (m: RegExpExecArray) => string;
  /** Split at its members (methods, nested types) when too large. */
  container?: boolean;
}

export interface LanguageSpec {
  /** Tried at top level and, one indentation level deeper, inside a container being split. */
  top: readonly DeclPattern[];
  /** Lines (indentation removed) that belong to the declaration below them: doc comments, decorators, attributes. */
  attach: RegExp;
}

const group = (m: RegExpExecArray, key: string): string => m.groups?.[key] ?? '';

/** `kind name`, where a `kind` capture group overrides the given kind. */
function decl(kind: string, re: RegExp, container = false): DeclPattern {
  return { re, container, label: (m) => `${group(m, 'kind') || kind} ${group(m, 'name')}`.trim() };
}

const KT_MODS =
  '(?:(?:public|private|protected|internal|open|override|abstract|final|suspend|inline|operator|infix|tailrec|external|data|sealed|enum|annotation|inner|lateinit|const|actual|expect|value)\\s+)*';
const kotlin: LanguageSpec = {
  top: [
    decl('fun', new RegExp(`^${KT_MODS}fun\\s+(?:<[^>]*>\\s*)?(?:[\\w.<>?]+\\.)?(?<name>[\\w$]+)`)),
    {
      re: new RegExp(`^${KT_MODS}companion\\s+object\\b\\s*(?<name>\\w*)`),
      label: (m) => `companion object ${group(m, 'name')}`.trim(),
      container: true,
    },
    decl('', new RegExp(`^${KT_MODS}(?:fun\\s+)?(?<kind>class|interface|object)\\s+(?<name>\\w+)`), true),
    decl('typealias', /^(?:(?:public|private|internal)\s+)?typealias\s+(?<name>\w+)/),
  ],
  attach: /^(?:\/\/|\/\*|\*|@)/,
};

const SCALA_MODS =
  '(?:(?:private|protected|final|sealed|abstract|implicit|lazy|override|case|inline|open|transparent)(?:\\[[^\\]]*\\])?\\s+)*';
const scala: LanguageSpec = {
  top: [
    decl('def', new RegExp(`^${SCALA_MODS}def\\s+(?<name>[^\\s(\\[:=]+)`)),
    decl('', new RegExp(`^${SCALA_MODS}(?<kind>class|object|trait|enum)\\s+(?<name>\\w+)`), true),
    decl('', new RegExp(`^${SCALA_MODS}(?<kind>val|var|type|given)\\s+(?<name>\\w+)`)),
  ],
  attach: /^(?:\/\/|\/\*|\*|@)/,
};

const SWIFT_MODS =
  '(?:(?:public|private|fileprivate|internal|open|final|static|class|override|mutating|nonmutating|convenience|required|dynamic|lazy|indirect|nonisolated|@\\w+(?:\\([^)]*\\))?)\\s+)*';
const swift: LanguageSpec = {
  top: [
    decl('func', new RegExp(`^${SWIFT_MODS}func\\s+(?<name>[^\\s(<]+)`)),
    decl('', new RegExp(`^${SWIFT_MODS}(?<kind>class|struct|enum|protocol|extension|actor)\\s+(?<name>[\\w.]+)`), true),
    { re: new RegExp(`^${SWIFT_MODS}(?<name>init|deinit|subscript)\\b`), label: (m) => group(m, 'name') },
  ],
  attach: /^(?:\/\/|\/\*|\*|@)/,
};

function sqlStatement(m: RegExpExecArray): string {
  return `${group(m, 'kind').toUpperCase().replace(/\s+/g, ' ')} ${group(m, 'name')}`.trim();
}
const sql: LanguageSpec = {
  top: [
    {
      re: /^(?<kind>(?:create|alter|drop)(?:\s+or\s+replace)?(?:\s+(?:temporary|temp|unique|materialized|recursive|global|local|unlogged))*\s+(?:table|view|index|function|procedure|trigger|type|schema|sequence|extension|policy|role|database|domain|aggregate))(?:\s+if\s+(?:not\s+)?exists)?\s+(?<name>[\w."`[\]]+)/i,
      label: sqlStatement,
    },
    { re: /^(?<kind>insert\s+into|update|delete\s+from|truncate(?:\s+table)?|copy)\s+(?<name>[\w."`[\]]+)/i, label: sqlStatement },
    {
      re: /^(?<kind>select|with|grant|revoke|comment\s+on|begin|commit|rollback|do|set|call|exec|execute|merge|vacuum|analyze)\b/i,
      label: sqlStatement,
    },
  ],
  attach: /^(?:--|\/\*|\*)/,
};

function selector(m: RegExpExecArray): string {
  const s = group(m, 'name').replace(/\s+/g, ' ').trim();
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
}
const css: LanguageSpec = {
  top: [
    { re: /^(?<name>@(?:media|supports|layer|container|document)\b[^{]*?)\s*\{/, label: selector, container: true },
    { re: /^(?<name>@[\w-]+\b[^{;]*?)\s*\{/, label: selector },
    // Rules nest in SCSS and Less, so a rule is a container too.
    { re: /^(?<name>[^\s{}@/][^{};]*?)\s*\{/, label: selector, container: true },
  ],
  // Lines ending in "," are the first lines of a multi-line selector list.
  attach: /^(?:\/\*|\*|\/\/)|,\s*$/,
};

const component: LanguageSpec = {
  top: [{ re: /^<(?<name>template|script|style)\b/, label: (m) => `<${group(m, 'name')}>` }],
  attach: /^<!--/,
};

const LANGUAGES: Readonly<Record<string, LanguageSpec>> = {
  kotlin,
  scala,
  swift,
  sql,
  // The CSS grammar cannot parse SCSS or Less nesting; one table serves all three.
  css,
  scss: css,
  less: css,
  vue: component,
  svelte: component,
};

export function languageSpec(language: string): LanguageSpec | undefined {
  return LANGUAGES[language];
}
