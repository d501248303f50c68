/**
 * Per-language declaration starts for the source chunker. These are line
 * regexes, not parsers: they are matched against a line with its indentation
 * removed, at top level (indent 0) or at member level inside a container that
 * is being split. Misses only cost chunk quality, never content.
 */

export interface DeclPattern {
  re: RegExp;
  /** Section name of the declaration, e.g. "class Store" or "impl Store for Qdrant". */
  label: (m: RegExpExecArray) => string;
  /** Split at its members (methods, nested types) when too large. */
  container?: boolean;
}

export interface LanguageSpec {
  top: readonly DeclPattern[];
  /** Tried before `top` inside containers (methods); `top` still applies there for nested types. */
  members: readonly DeclPattern[];
  /** Lines (indentation removed) that belong to the declaration below them: doc comments, decorators, attributes. */
  attach: RegExp;
}

const group = (m: RegExpExecArray, key: string): string => m.groups?.[key] ?? '';

/** `kind name`, where a `kind` capture group overrides the given kind. */
function decl(kind: string, re: RegExp, container = false): DeclPattern {
  return { re, container, label: (m) => `${group(m, 'kind') || kind} ${group(m, 'name')}`.trim() };
}

const C_COMMENT = /^(?:\/\/|\/\*|\*)/;
/** Names a call or statement could start with, which are never member declarations. */
const NOT_A_NAME = '(?!(?:if|for|while|switch|catch|return|new|else|throw|try|do|await|yield|typeof|super|this|function)\\b)';

// TypeScript and JavaScript share one table: the TS-only forms never occur in JS.
const TS_MODS = '(?:(?:public|private|protected|static|readonly|async|abstract|override|declare|accessor)\\s+)*';
const FUNCTION_VALUE = /=\s*(?:async\s*)?(?:function\b|(?:\([^)]*\)|[\w$]+)\s*(?::[^=]+)?=>)/;
const typescript: LanguageSpec = {
  top: [
    decl('function', /^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:async\s+)?function\b\s*\*?\s*(?<name>[\w$]*)/),
    decl('class', /^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?class\b\s*(?<name>[\w$]*)/, true),
    decl('interface', /^(?:export\s+)?(?:declare\s+)?interface\s+(?<name>[\w$]+)/, true),
    decl('enum', /^(?:export\s+)?(?:declare\s+)?(?:const\s+)?enum\s+(?<name>[\w$]+)/),
    decl('type', /^(?:export\s+)?(?:declare\s+)?type\s+(?<name>[\w$]+)\s*(?:<[^=]*>)?\s*=/),
    decl('namespace', /^(?:export\s+)?(?:declare\s+)?(?:namespace|module)\s+(?<name>[\w$.'"@/-]+)\s*\{/, true),
    {
      // `const x = require(...)` is an import, so it stays in the module header.
      re: /^(?:export\s+)?(?:declare\s+)?(?:const|let|var)\s+(?<name>[\w$]+)(?![^=]*=\s*require\()/,
      label: (m) => `${FUNCTION_VALUE.test(m.input) ? 'function' : 'const'} ${group(m, 'name')}`,
    },
    { re: /^export\s+default\b/, label: () => 'export default' },
    { re: /^module\.exports\b/, label: () => 'module.exports' },
  ],
  members: [
    {
      re: new RegExp(
        `^${TS_MODS}(?:(?<acc>get|set)\\s+)?\\*?\\s*${NOT_A_NAME}(?<name>#?[\\w$]+)\\s*[?!]?\\s*(?:<[^>]*>)?\\s*\\(`,
      ),
      label: (m) => (group(m, 'name') === 'constructor' ? 'constructor' : `${group(m, 'acc') || 'method'} ${group(m, 'name')}`),
    },
    decl(
      'method',
      new RegExp(`^${TS_MODS}(?<name>#?[\\w$]+)\\s*(?::[^=]+)?=\\s*(?:async\\s*)?(?:\\([^)]*\\)|[\\w$]+)\\s*(?::[^=]+)?=>`),
    ),
  ],
  attach: /^(?:\/\/|\/\*|\*|@)/,
};

const python: LanguageSpec = {
  top: [
    decl('def', /^(?:async\s+)?def\s+(?<name>\w+)\s*[([]/),
    decl('class', /^class\s+(?<name>\w+)\s*[(:[]/, true),
    { re: /^if\s+__name__\s*==/, label: () => 'if __name__ == "__main__"' },
  ],
  members: [],
  attach: /^(?:#|@)/,
};

function goReceiver(recv: string): string {
  const type = recv.trim().split(/\s+/).at(-1) ?? '';
  return type.replace(/^\*/, '').replace(/\[.*$/, '');
}

const go: LanguageSpec = {
  top: [
    {
      re: /^func\s+(?:\((?<recv>[^)]*)\)\s*)?(?<name>\w+)/,
      label: (m) => {
        const recv = group(m, 'recv');
        return recv ? `func ${goReceiver(recv)}.${group(m, 'name')}` : `func ${group(m, 'name')}`;
      },
    },
    { re: /^(?<kind>type|var|const)\s*\(/, label: (m) => `${group(m, 'kind')} (…)` },
    decl('', /^(?<kind>type|var|const)\s+(?<name>\w+)/),
  ],
  members: [],
  attach: C_COMMENT,
};

const RS_VIS = '(?:pub(?:\\([^)]*\\))?\\s+)?';
const rust: LanguageSpec = {
  top: [
    decl(
      'fn',
      new RegExp(
        `^${RS_VIS}(?:default\\s+)?(?:const\\s+)?(?:async\\s+)?(?:unsafe\\s+)?(?:extern\\s+(?:"[^"]*"\\s+)?)?fn\\s+(?<name>\\w+)`,
      ),
    ),
    decl('impl', /^(?:unsafe\s+)?impl\b(?:\s*<[^{]*?>)?\s+(?<name>[^{]+?)\s*(?:\{.*|where\b.*)?$/, true),
    decl('', new RegExp(`^${RS_VIS}(?:unsafe\\s+)?(?<kind>trait|mod)\\s+(?<name>\\w+)`), true),
    decl('', new RegExp(`^${RS_VIS}(?<kind>struct|enum|union|type|const|static)\\s+(?:mut\\s+)?(?<name>\\w+)`)),
    decl('macro', /^macro_rules!\s*(?<name>\w+)/),
  ],
  members: [],
  attach: /^(?:\/\/|\/\*|\*|#!?\[)/,
};

const JAVA_MODS =
  '(?:(?:public|protected|private|static|final|abstract|synchronized|native|default|strictfp|transient|volatile|sealed|non-sealed)\\s+)*';
/** An optional return type (generic, array or qualified) before a method name. */
const RETURN_TYPE = '(?:<[^>]+>\\s+)?(?:[\\w$.?\\[\\]]+(?:<[^()]*>)?(?:\\[\\])*\\??\\s+)?';
const java: LanguageSpec = {
  top: [decl('', new RegExp(`^${JAVA_MODS}(?<kind>class|interface|enum|record|@interface)\\s+(?<name>\\w+)`), true)],
  members: [decl('method', new RegExp(`^${JAVA_MODS}${RETURN_TYPE}${NOT_A_NAME}(?<name>[\\w$]+)\\s*\\(`))],
  attach: /^(?:\/\/|\/\*|\*|@)/,
};

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
  members: [],
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
  members: [],
  attach: /^(?:\/\/|\/\*|\*|@)/,
};

const CS_MODS =
  '(?:(?:public|protected|private|internal|static|virtual|override|abstract|sealed|async|partial|readonly|extern|unsafe|new|file|required)\\s+)*';
const csharp: LanguageSpec = {
  top: [
    decl(
      '',
      new RegExp(`^${CS_MODS}(?<kind>class|interface|struct|enum|record(?:\\s+struct|\\s+class)?|namespace)\\s+(?<name>[\\w.]+)`),
      true,
    ),
  ],
  members: [decl('method', new RegExp(`^${CS_MODS}${RETURN_TYPE}${NOT_A_NAME}(?<name>[\\w$]+)\\s*(?:<[^>()]*>)?\\s*\\(`))],
  attach: /^(?:\/\/|\/\*|\*|\[)/,
};

/**
 * C and C++ functions: a type, a name and "(", with a "{" or the line's end
 * before any ";" (which would make it a prototype or a call).
 */
const C_FUNCTION = decl(
  'function',
  /^(?!(?:if|for|while|switch|return|else|do|case|typedef|struct|enum|union|class|namespace|template|using|extern\s+"C")\b)(?:[\w:<>,~]+[ \t*&]+)*?(?<name>[\w:~]+)\s*\((?=[^;{]*(?:\{|$))/,
);
/** Comments, plus a return type on its own line above the name (GNU style). */
const C_ATTACH = /^(?:\/\/|\/\*|\*|[\w*&:<>]+(?:[ \t]+[\w*&:<>]+)*[ \t]*$)/;
// Neither a forward declaration (`struct x;`) nor a function returning one (`struct x *make(`).
const C_RECORD = '(?<name>\\w+)(?![^{;]*;)(?![^{;(]*\\()';
const c: LanguageSpec = {
  top: [decl('', new RegExp(`^(?:typedef\\s+)?(?<kind>struct|union|enum)\\s+${C_RECORD}`)), C_FUNCTION],
  members: [],
  attach: C_ATTACH,
};
const cpp: LanguageSpec = {
  top: [
    decl('namespace', /^namespace\s+(?<name>[\w:]+)/, true),
    decl('', new RegExp(`^(?:typedef\\s+)?(?<kind>class|struct|union)\\s+${C_RECORD}`), true),
    decl('enum', /^(?:typedef\s+)?enum\s+(?:class\s+|struct\s+)?(?<name>\w+)(?![^{;]*;)/),
    C_FUNCTION,
  ],
  members: [],
  attach: new RegExp(`${C_ATTACH.source}|^template\\s*<`),
};

const PHP_MODS = '(?:(?:abstract|final|public|private|protected|static|readonly)\\s+)*';
const php: LanguageSpec = {
  top: [
    decl('function', /^function\s+&?(?<name>\w+)/),
    decl('', new RegExp(`^${PHP_MODS}(?<kind>class|interface|trait|enum)\\s+(?<name>\\w+)`), true),
  ],
  members: [decl('method', new RegExp(`^${PHP_MODS}function\\s+&?(?<name>\\w+)`))],
  attach: /^(?:\/\/|\/\*|\*|#)/,
};

const ruby: LanguageSpec = {
  top: [
    decl('def', /^def\s+(?<name>(?:self\.)?[^\s(;]+)/),
    { re: /^class\s*<<\s*self\b/, label: () => 'class << self', container: true },
    decl('', /^(?<kind>class|module)\s+(?<name>[\w:]+)/, true),
  ],
  members: [],
  attach: /^#/,
};

const SWIFT_MODS =
  '(?:(?:public|private|fileprivate|internal|open|final|static|class|override|mutating|nonmutating|convenience|required|dynamic|lazy|indirect|nonisolated|@\\w+(?:\\([^)]*\\))?)\\s+)*';
const swift: LanguageSpec = {
  top: [
    decl('func', new RegExp(`^${SWIFT_MODS}func\\s+(?<name>[^\\s(<]+)`)),
    decl('', new RegExp(`^${SWIFT_MODS}(?<kind>class|struct|enum|protocol|extension|actor)\\s+(?<name>[\\w.]+)`), true),
    { re: new RegExp(`^${SWIFT_MODS}(?<name>init|deinit|subscript)\\b`), label: (m) => group(m, 'name') },
  ],
  members: [],
  attach: /^(?:\/\/|\/\*|\*|@)/,
};

const shell: LanguageSpec = {
  top: [
    decl('function', /^(?:function\s+)?(?<name>[\w.:-]+)\s*\(\)/),
    decl('function', /^function\s+(?<name>[\w.:-]+)/),
  ],
  members: [],
  attach: /^#/,
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
  members: [],
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
  members: [],
  // Lines ending in "," are the first lines of a multi-line selector list.
  attach: /^(?:\/\*|\*|\/\/)|,\s*$/,
};

const component: LanguageSpec = {
  top: [{ re: /^<(?<name>template|script|style)\b/, label: (m) => `<${group(m, 'name')}>` }],
  members: [],
  attach: /^<!--/,
};

const LANGUAGES: Readonly<Record<string, LanguageSpec>> = {
  typescript,
  javascript: typescript,
  python,
  go,
  rust,
  java,
  kotlin,
  scala,
  csharp,
  c,
  cpp,
  php,
  ruby,
  swift,
  shell,
  sql,
  css,
  scss: css,
  less: css,
  vue: component,
  svelte: component,
};

export function languageSpec(language: string): LanguageSpec | undefined {
  return LANGUAGES[language];
}
