// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { createRenderer, type CitableSource } from '../../extension/webview/render.js';

const renderer = createRenderer(window);

/** n sources, source i at guides/doc-i.md lines 10i..10i+5. */
function sources(n: number): CitableSource[] {
  return Array.from({ length: n }, (_, i) => ({ index: i + 1, file_path: `guides/doc-${i + 1}.md`, start_line: 10 * (i + 1), end_line: 10 * (i + 1) + 5 }));
}

function dom(html: string): HTMLElement {
  const root = document.createElement('div');
  root.innerHTML = html;
  return root;
}

/** Everything a hostile document could use to run code or load something in the webview. */
function expectInert(html: string): void {
  const root = dom(html);
  expect(root.querySelectorAll('script, iframe, object, embed, img, svg, math, style, form, input, link, meta, base').length, html).toBe(0);
  for (const el of root.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      expect(attr.name.toLowerCase().startsWith('on'), `${el.tagName} has ${attr.name}`).toBe(false);
      expect(attr.name.toLowerCase(), `${el.tagName} has ${attr.name}`).not.toBe('style');
      if (attr.name === 'href' || attr.name === 'src') expect(attr.value, `${el.tagName} ${attr.name}`).toMatch(/^(https?:\/\/|citation:(\d+|path)$)/i);
      // A rejected link stays on screen as literal text; only attributes could make it live.
      expect(attr.value.toLowerCase().replace(/\s/g, ''), `${el.tagName} ${attr.name}`).not.toMatch(/(java|vb)script:|data:/);
    }
  }
}

describe('render: hostile library content is inert', () => {
  const attacks: Record<string, string> = {
    script: 'Hello <script>alert(1)</script> world',
    'img onerror': '<img src=x onerror=alert(1)>',
    'javascript link': '[x](javascript:alert(1))',
    'javascript link, obfuscated': '[x](JaVaScRiPt:alert(1)) [y](  javascript:alert(1)) [z](java&#x09;script:alert(1))',
    'vbscript and file links': '[a](vbscript:msgbox(1)) [b](file:///etc/passwd)',
    'raw html block': '<div onclick="alert(1)"><b>bold</b></div>\n\n<a href="javascript:alert(1)">click</a>',
    iframe: '<iframe src="https://evil.example/"></iframe>',
    'data urls': '[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) ![i](data:image/png;base64,iVBORw0KGgo=)',
    'markdown image': '![tracker](https://evil.example/pixel.png)',
    'autolink javascript': '<javascript:alert(1)>',
    'svg': '<svg onload=alert(1)><circle r=1 /></svg>',
    'style': '<style>body{display:none}</style><p style="position:fixed">x</p>',
    'html in code span': 'Use `<script>alert(1)</script>` carefully',
    'reference link': '[click][evil]\n\n[evil]: javascript:alert(1)',
    'source marker with markup': '[source: "><img src=x onerror=alert(1)>] [source: a.md" onclick="x]',
  };
  for (const [name, markdown] of Object.entries(attacks)) {
    it(name, () => expectInert(renderer.render(markdown, { sources: sources(3) })));
  }

  it('shows raw HTML as text instead of dropping it silently', () => {
    const root = dom(renderer.render('<script>alert(1)</script>'));
    expect(root.textContent).toContain('<script>alert(1)</script>');
  });

  it('turns images into links, never <img>', () => {
    const root = dom(renderer.render('![diagram](https://example.com/d.png)'));
    expect(root.querySelector('img')).toBeNull();
    expect(root.querySelector('a.image-link')?.getAttribute('href')).toBe('https://example.com/d.png');
  });

  it('keeps http(s) links, with rel=noopener', () => {
    const a = dom(renderer.render('[docs](https://example.com/docs)')).querySelector('a');
    expect(a?.getAttribute('href')).toBe('https://example.com/docs');
    expect(a?.getAttribute('rel')).toBe('noopener noreferrer');
  });
});

describe('render: code', () => {
  it('highlights a fenced block and adds copy and insert buttons', () => {
    const root = dom(renderer.render('```ts\nconst answer: number = 42;\n```'));
    const block = root.querySelector('.code-block');
    expect(block?.getAttribute('data-lang')).toBe('typescript');
    const code = block?.querySelector('pre code');
    expect(code?.className).toContain('language-typescript');
    expect(code?.querySelector('.hljs-keyword')?.textContent).toBe('const');
    expect(code?.querySelector('.hljs-number')?.textContent).toBe('42');
    expect(code?.textContent).toBe('const answer: number = 42;\n');
    const actions = [...(block?.querySelectorAll('button') ?? [])].map((b) => b.getAttribute('data-action'));
    expect(actions).toEqual(['copy', 'insert']);
  });

  it('escapes code in unknown languages and keeps its text exact', () => {
    const root = dom(renderer.render('```brainfuck\n<b>&amp;</b>\n```'));
    expect(root.querySelector('pre code')?.textContent).toBe('<b>&amp;</b>\n');
    expect(root.querySelector('pre code b')).toBeNull();
  });

  it('a fence info string cannot inject attributes', () => {
    const html = renderer.render('```"><img src=x onerror=alert(1)>\ncode\n```');
    expectInert(html);
  });
});

describe('render: citations', () => {
  it('links [n] to source n when the answer has that many sources', () => {
    const root = dom(renderer.render('Hybrid search is the default [1]. Keyword mode finds identifiers [2][3].', { sources: sources(3) }));
    const links = [...root.querySelectorAll('a.citation')];
    expect(links.map((a) => a.getAttribute('data-source'))).toEqual(['1', '2', '3']);
    expect(links.map((a) => a.getAttribute('href'))).toEqual(['citation:1', 'citation:2', 'citation:3']);
  });

  it('links lists like [1, 2]', () => {
    const root = dom(renderer.render('Both say so [1, 2].', { sources: sources(2) }));
    expect([...root.querySelectorAll('a.citation')].map((a) => a.textContent)).toEqual(['1', '2']);
  });

  it('leaves out-of-range numbers, code and real links alone', () => {
    const root = dom(renderer.render('See [7] and `arr[1]` and [1](https://example.com).', { sources: sources(2) }));
    expect(root.querySelectorAll('a.citation')).toHaveLength(0);
    expect(root.textContent).toContain('[7]');
    expect(root.querySelector('code')?.textContent).toBe('arr[1]');
    expect(root.querySelector('a')?.getAttribute('href')).toBe('https://example.com');
  });

  it('does not link citations before sources are known', () => {
    expect(dom(renderer.render('Claim [1].')).querySelectorAll('a.citation')).toHaveLength(0);
  });

  it('renders a half-streamed answer with an unclosed fence', () => {
    const html = renderer.render('Here:\n\n```python\ndef f():\n    return [1]', { sources: sources(1) });
    const root = dom(html);
    expect(root.querySelector('pre code')?.textContent).toContain('def f():');
    // Inside code, [1] is code, not a citation.
    expect(root.querySelectorAll('a.citation')).toHaveLength(0);
  });
});

describe('render: every citation form the server produces is a link (issue 14, defect 2)', () => {
  const srcs: CitableSource[] = [
    { index: 1, file_path: 'contributed/ws/src/rate_limiter.py', start_line: 1, end_line: 30 },
    { index: 2, file_path: 'guides/tokens-keys-and-access.md', start_line: 12, end_line: 40 },
    { index: 3, file_path: 'guides/tokens-keys-and-access.md', start_line: 41, end_line: 70 },
  ];
  const links = (md: string) => [...dom(renderer.render(md, { sources: srcs })).querySelectorAll('a.citation')];

  it('[source: path] links to that file at its source lines', () => {
    const [a] = links('Tokens refill each second [source: contributed/ws/src/rate_limiter.py].');
    expect(a?.getAttribute('data-path')).toBe('contributed/ws/src/rate_limiter.py');
    expect([a?.getAttribute('data-start'), a?.getAttribute('data-end')]).toEqual(['1', '30']);
    expect(a?.getAttribute('data-source')).toBe('1');
    expect(a?.textContent).toBe('rate_limiter.py:1–30');
  });

  it('[source: path#Lx-Ly], [source: path:x-y] and "lines x-y" pick the source with those lines', () => {
    for (const md of ['[source: guides/tokens-keys-and-access.md#L41-L70]', '[source: guides/tokens-keys-and-access.md:45-50]', '[Source: guides/tokens-keys-and-access.md, lines 45-50]']) {
      const [a] = links(`Rotate keys ${md}.`);
      expect(a?.getAttribute('data-source'), md).toBe('3');
      expect(a?.getAttribute('data-path'), md).toBe('guides/tokens-keys-and-access.md');
    }
    const [exact] = links('[source: guides/tokens-keys-and-access.md:45-50]');
    expect([exact?.getAttribute('data-start'), exact?.getAttribute('data-end')]).toEqual(['45', '50']);
  });

  it('[source: path (Section: …)] and several references in one bracket', () => {
    expect(links('[source: guides/tokens-keys-and-access.md (Section: Rotation)]')[0]?.getAttribute('data-source')).toBe('2');
    const two = links('[source: contributed/ws/src/rate_limiter.py; source: guides/tokens-keys-and-access.md#L12-L40]');
    expect(two.map((a) => a.getAttribute('data-source'))).toEqual(['1', '2']);
  });

  it('a path that is no source of this answer still opens that file', () => {
    const [a] = links('See [source: docs/elsewhere.md:3-4].');
    expect(a?.getAttribute('href')).toBe('citation:path');
    expect(a?.hasAttribute('data-source')).toBe(false);
    expect([a?.getAttribute('data-path'), a?.getAttribute('data-start'), a?.getAttribute('data-end')]).toEqual(['docs/elsewhere.md', '3', '4']);
  });

  it('extractive "- quote [n]" lines link n', () => {
    expect(links('- Keys rotate every 90 days. [2]\n- Buckets refill. [1]').map((a) => a.getAttribute('data-source'))).toEqual(['2', '1']);
  });

  it('citation links have a label that names the file and lines (defect 17)', () => {
    const [n] = links('Claim [2].');
    expect(n?.getAttribute('aria-label')).toBe('Source 2: guides/tokens-keys-and-access.md, lines 12 to 40');
    const [p] = links('Claim [source: docs/x.md].');
    expect(p?.getAttribute('aria-label')).toBe('Source: docs/x.md');
  });

  it('markers inside code stay code', () => {
    expect(links('`[source: guides/tokens-keys-and-access.md]`')).toHaveLength(0);
  });
});

describe('render: Copy and Insert say which block (defect 17)', () => {
  it('numbers the blocks and names their language and first line', () => {
    const root = dom(renderer.render('```python\ndef refill(self):\n    pass\n```\n\ntext\n\n```\nnpm start\n```'));
    const labels = [...root.querySelectorAll('button.code-action')].map((b) => b.getAttribute('aria-label'));
    expect(labels).toEqual([
      'Copy code block 1 (python): def refill(self):',
      'Insert code block 1 (python): def refill(self): into the editor',
      'Copy code block 2: npm start',
      'Insert code block 2: npm start into the editor',
    ]);
  });
});
