/**
 * The chat webview. It renders state and forwards intents; the extension host
 * makes every server call. DOM is built with textContent except for answer
 * markdown, which goes through the sanitizing renderer.
 */
import type { ConversationSummary } from '../../shared/api-types.js';
import {
  FAILURE_ACTION_LABELS,
  SLASH_COMMANDS,
  SLASH_COMMAND_HELP,
  isFailureAction,
  isToWebview,
  type ChatWelcome,
  type FailureAction,
  type FromWebview,
  type SelectionContext,
  type SlashCommand,
} from '../../shared/webview-protocol.js';
import { answeredBy, confidenceLevel, lineLabel, pathSegments, presentSources, splitExtractiveNote, type Level } from './present.js';
import { createRenderer } from './render.js';
import { initialState, reduce, restoreState, type ChatAction, type ChatState, type ChatTurn } from './state.js';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: ChatState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const renderer = createRenderer(window);

/** Re-rendering markdown on every delta is wasteful; 50 ms still looks live. */
const STREAM_RENDER_MS = 50;
/** How far below the view the answer's end may be and still count as "followed". */
const STICKY_PX = 40;
/** Room kept under the answer's last line when following it. */
const FOLLOW_MARGIN_PX = 12;

let state: ChatState = restoreState(vscode.getState());
let renderTimer: ReturnType<typeof setTimeout> | undefined;
/** Follow the newest answer as it grows; off once the reader scrolls away from its end. */
let follow = true;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function required<T extends Element>(selector: string, type: { new (): T }): T {
  const node = document.querySelector(selector);
  if (!(node instanceof type)) throw new Error(`chat webview: element ${selector} is missing from the page; the host HTML and main.ts disagree`);
  return node;
}

const messages = required('#messages', HTMLElement);
const historyPanel = required('#history', HTMLElement);
const input = required('#input', HTMLTextAreaElement);
const sendButton = required('#send', HTMLButtonElement);
const stopButton = required('#stop', HTMLButtonElement);
const noticeBar = required('#notice', HTMLElement);
const attachmentBar = required('#attachment', HTMLElement);
const slashList = required('#slash-list', HTMLElement);

/** Per turn: its element and what was last rendered into it, so unchanged turns are not re-rendered. */
interface TurnView {
  root: HTMLElement;
  question: HTMLElement;
  note: HTMLElement;
  answer: HTMLElement;
  status: HTMLElement;
  meta: HTMLElement;
  sources: HTMLElement;
  rendered: { answer: string; sourcesKey: string; statusKey: string; note: string; meta: string };
}
const views = new Map<string, TurnView>();

function dispatch(action: ChatAction): void {
  state = reduce(state, action);
  scheduleRender();
}

function scheduleRender(): void {
  if (renderTimer !== undefined) return;
  renderTimer = setTimeout(
    () => {
      renderTimer = undefined;
      render();
    },
    state.activeTurnId ? STREAM_RENDER_MS : 0,
  );
}

function post(message: FromWebview): void {
  vscode.postMessage(message);
}

/**
 * `interrupt`: a question from the host (Ask About Selection) replaces a running answer instead of waiting.
 * `replaces`: Regenerate, the turn whose place the new answer takes.
 */
function askQuestion(question: string, opts: { interrupt?: boolean; context?: SelectionContext | null; replaces?: string } = {}): void {
  const text = question.trim();
  if (!text || (state.activeTurnId && !opts.interrupt)) return;
  follow = true;
  post({ type: 'ask', question: text, conversationId: state.conversationId, context: opts.context ?? null, replaces: opts.replaces ?? null });
}

// ---- Rendering ----

function createTurnView(turn: ChatTurn): TurnView {
  const root = el('section', 'turn');
  root.dataset.turnId = turn.id;
  const question = el('div', 'question markdown');
  const note = el('div', 'banner extractive');
  note.setAttribute('role', 'note');
  note.hidden = true;
  const answer = el('div', 'answer markdown');
  const status = el('div', 'turn-status');
  const meta = el('div', 'turn-meta');
  const sources = el('div', 'sources');
  root.append(question, note, answer, status, meta, sources);
  question.innerHTML = renderer.render(turn.question);
  if (turn.context) question.append(contextChip(turn.context, false));
  return { root, question, note, answer, status, meta, sources, rendered: { answer: '\0', sourcesKey: '', statusKey: '', note: '\0', meta: '' } };
}

/** A selection as a chip: file and lines; in the composer it can be removed. */
function contextChip(c: SelectionContext, removable: boolean): HTMLElement {
  const chip = el('span', 'context-chip');
  const label = `${c.file} ${lineLabel(c.start_line, c.end_line)}`;
  chip.title = c.code.length > 600 ? `${c.code.slice(0, 600)}…` : c.code;
  chip.append(el('span', 'context-chip-label', label));
  if (removable) {
    const remove = el('button', 'context-chip-remove', '×');
    remove.type = 'button';
    remove.dataset.ui = 'detach';
    remove.setAttribute('aria-label', `Remove the attached selection ${label}`);
    remove.title = 'Remove';
    chip.append(remove);
  }
  return chip;
}

/** A path with break opportunities after its separators, so it wraps there and not mid-word. */
function pathText(path: string, className: string): HTMLElement {
  const span = el('span', className);
  pathSegments(path).forEach((segment, i) => {
    if (i > 0) span.append(el('wbr'));
    span.append(document.createTextNode(segment));
  });
  return span;
}

function levelMeter(level: Level, what: string): HTMLElement {
  const meter = el('span', `level level-${level}`);
  meter.setAttribute('role', 'img');
  meter.setAttribute('aria-label', `${what} ${level}`);
  const bars = el('span', 'level-bars');
  bars.setAttribute('aria-hidden', 'true');
  const filled = level === 'high' ? 3 : level === 'medium' ? 2 : 1;
  for (let i = 0; i < 3; i++) bars.append(el('span', i < filled ? 'bar on' : 'bar'));
  const word = el('span', 'level-word', level);
  word.setAttribute('aria-hidden', 'true');
  meter.append(bars, word);
  return meter;
}

function renderSources(view: TurnView, turn: ChatTurn): void {
  const presented = presentSources(turn);
  const key = `${presented.summary}|${turn.sources.map((s) => `${s.index}:${s.file_path}:${s.start_line}`).join('|')}`;
  if (key === view.rendered.sourcesKey) return;
  view.rendered.sourcesKey = key;
  view.sources.replaceChildren();
  view.sources.classList.toggle('low-match', presented.lowMatch);
  if (turn.sources.length === 0) return;
  const details = el('details');
  // Collapsed: the answer is what the reader came for (issue 14, defect 1).
  details.open = false;
  details.append(el('summary', undefined, presented.summary));
  const list = el('ul', 'source-files');
  for (const group of presented.groups) {
    const item = el('li', 'source-file');
    const first = group.ranges[0];
    const fileLink = el('a', 'source-link');
    fileLink.href = '#';
    fileLink.append(pathText(group.file_path, 'source-path'));
    if (first) {
      fileLink.dataset.path = group.file_path;
      fileLink.dataset.start = String(first.start_line);
      fileLink.dataset.end = String(first.end_line);
      fileLink.title = `Open ${group.file_path} ${lineLabel(first.start_line, first.end_line)}`;
      fileLink.setAttribute('aria-label', `Open ${group.file_path}, ${lineLabel(first.start_line, first.end_line)}`);
    }
    const ranges = el('ul', 'source-ranges');
    for (const r of group.ranges) {
      const row = el('li', 'source-range');
      const link = el('a', 'source-range-link', lineLabel(r.start_line, r.end_line));
      link.href = '#';
      link.dataset.source = String(r.index);
      link.dataset.path = group.file_path;
      link.dataset.start = String(r.start_line);
      link.dataset.end = String(r.end_line);
      // Hover shows the passage itself.
      link.title = r.snippet || `${group.file_path} ${lineLabel(r.start_line, r.end_line)}`;
      link.setAttribute('aria-label', `Source ${r.index}: ${group.file_path}, ${lineLabel(r.start_line, r.end_line)}${r.section ? `, section ${r.section}` : ''}`);
      row.append(el('span', 'source-index', `[${r.index}]`), link);
      if (r.section) row.append(el('span', 'source-section', r.section));
      row.append(levelMeter(presented.lowMatch ? 'low' : r.relevance, 'relevance'));
      ranges.append(row);
    }
    item.append(fileLink, ranges);
    list.append(item);
  }
  details.append(list);
  view.sources.append(details);
}

function renderStatus(view: TurnView, turn: ChatTurn): void {
  const key = `${turn.status}|${turn.error?.message ?? ''}|${turn.answer === '' ? 'empty' : 'text'}|${turn.sources.length}`;
  if (key === view.rendered.statusKey) return;
  view.rendered.statusKey = key;
  view.status.replaceChildren();
  view.root.classList.toggle('streaming', turn.status === 'streaming');
  if (turn.status === 'streaming' && turn.answer === '') {
    view.status.append(el('span', 'thinking', turn.sources.length ? 'Writing the answer…' : 'Searching the library…'));
  } else if (turn.status === 'stopped') {
    view.status.append(el('span', 'muted', 'Stopped. The partial answer is kept.'));
  } else if (turn.status === 'error' && turn.error) {
    const box = el('div', 'error');
    box.setAttribute('role', 'alert');
    box.append(el('span', undefined, turn.error.message));
    const actions = el('div', 'error-actions');
    for (const action of turn.error.actions) actions.append(actionButton(action));
    box.append(actions);
    view.status.append(box);
  } else if (turn.status === 'done' && turn.answer.trim() === '') {
    view.status.append(el('span', 'muted', 'The server returned an empty answer.'));
  }
}

function actionButton(action: FailureAction): HTMLButtonElement {
  const button = el('button', 'secondary', FAILURE_ACTION_LABELS[action]);
  button.type = 'button';
  button.dataset.failureAction = action;
  return button;
}

/** Which model answered, how confident the server is, and Regenerate on the last turn. */
function renderMeta(view: TurnView, turn: ChatTurn, isLast: boolean): void {
  const by = turn.status === 'streaming' ? null : answeredBy(turn.mode, turn.model);
  const level = turn.status === 'done' && turn.confidence !== null ? confidenceLevel(turn.confidence) : null;
  const regenerate = isLast && turn.status !== 'streaming' && state.activeTurnId === null;
  const key = `${by}|${level}|${turn.confidence}|${regenerate}`;
  if (key === view.rendered.meta) return;
  view.rendered.meta = key;
  view.meta.replaceChildren();
  if (by) view.meta.append(el('span', 'answered-by', by));
  if (level !== null && turn.confidence !== null) {
    const conf = el('span', 'confidence');
    conf.title = `The server's confidence in this answer: ${Math.round(turn.confidence * 100)}%`;
    conf.append(el('span', 'muted', 'Confidence'), levelMeter(level, 'confidence'));
    view.meta.append(conf);
  }
  if (regenerate) {
    const button = el('button', 'secondary regenerate', 'Regenerate');
    button.type = 'button';
    button.dataset.ui = 'regenerate';
    button.setAttribute('aria-label', `Regenerate the answer to: ${turn.question.slice(0, 80)}`);
    view.meta.append(button);
  }
  view.meta.hidden = view.meta.childElementCount === 0;
}

function renderTurn(view: TurnView, turn: ChatTurn, isLast: boolean): void {
  // The server starts an extractive answer with its note: said once, in the banner.
  const { note: leading, body } = splitExtractiveNote(turn.answer);
  const note = leading ?? turn.note;
  const noteKey = `${note ?? ''}|${turn.noteAction ?? ''}`;
  if (noteKey !== view.rendered.note) {
    view.rendered.note = noteKey;
    view.note.replaceChildren();
    if (note) {
      view.note.append(el('span', undefined, note));
      if (turn.noteAction) view.note.append(actionButton(turn.noteAction));
    }
    view.note.hidden = note === null;
  }
  // Keyed on the text and the sources: citations become links once sources arrive.
  const answerKey = `${turn.sources.map((s) => s.index).join(',')}\n${body}`;
  if (answerKey !== view.rendered.answer) {
    view.rendered.answer = answerKey;
    view.answer.innerHTML = renderer.render(body, { sources: turn.sources });
  }
  renderStatus(view, turn);
  renderMeta(view, turn, isLast);
  renderSources(view, turn);
}

function modeLine(w: ChatWelcome): string {
  switch (w.mode.kind) {
    case 'claude':
      return w.mode.key === 'developer' ? 'Claude, with your Anthropic API key.' : 'Claude, with the server\u2019s Anthropic key.';
    case 'extractive':
      return `Extractive quotes from the library, ${w.mode.reason}`;
    case 'unknown':
      return `Not known yet: ${w.mode.reason}`;
  }
}

function renderWelcome(): HTMLElement {
  const box = el('div', 'welcome');
  box.append(el('h2', undefined, 'Ask the library'));
  const w = state.welcome;
  if (w) {
    const facts = el('dl', 'welcome-facts');
    facts.append(el('dt', undefined, 'Server'), el('dd', 'welcome-server', w.serverUrl), el('dt', undefined, 'Answers'), el('dd', 'welcome-mode', modeLine(w)));
    box.append(facts);
    if (w.examples.length > 0) {
      box.append(el('p', 'muted', 'Try one of these, drawn from the library\u2019s own categories:'));
      const list = el('ul', 'examples');
      for (const q of w.examples) {
        const item = el('li');
        const button = el('button', 'example', q);
        button.type = 'button';
        button.dataset.example = q;
        item.append(button);
        list.append(item);
      }
      box.append(list);
    }
  }
  box.append(
    el('p', 'muted', 'Answers cite their sources; click a citation to open the file at those lines. Enter sends, Shift+Enter adds a line, \u2191 recalls the last question, / lists commands, Escape stops an answer.'),
  );
  return box;
}

function renderHistory(): void {
  historyPanel.replaceChildren();
  const header = el('div', 'history-header');
  const back = el('button', 'secondary', '← Back to chat');
  back.type = 'button';
  back.dataset.ui = 'back';
  const fresh = el('button', 'secondary', 'New chat');
  fresh.type = 'button';
  fresh.dataset.ui = 'new';
  header.append(el('h2', undefined, 'Conversations'), fresh, back);
  historyPanel.append(header);
  if (state.history.note) historyPanel.append(el('p', 'muted history-note', state.history.note));
  const { items, error, loading } = state.history;
  if (error) {
    historyPanel.append(el('div', 'error', error));
  } else if (loading && items.length === 0) {
    historyPanel.append(el('p', 'muted', 'Loading…'));
  } else if (items.length === 0) {
    historyPanel.append(el('p', 'muted', 'No saved conversations yet. Ask something and it will be saved here.'));
  }
  const list = el('ul', 'history-list');
  for (const c of items) list.append(historyItem(c));
  historyPanel.append(list);
}

function historyItem(c: ConversationSummary): HTMLElement {
  const item = el('li', c.id === state.conversationId ? 'current' : undefined);
  const open = el('button', 'history-open');
  open.type = 'button';
  open.dataset.conversationId = c.id;
  open.append(el('span', 'history-title', c.title || 'Untitled'), el('span', 'muted', `${c.turns} turn${c.turns === 1 ? '' : 's'} · ${new Date(c.updated_at).toLocaleString()}`));
  const del = el('button', 'icon-button', 'Delete');
  del.type = 'button';
  del.title = `Delete "${c.title}"`;
  del.setAttribute('aria-label', `Delete conversation ${c.title}`);
  del.dataset.deleteId = c.id;
  del.dataset.deleteTitle = c.title;
  item.append(open, del);
  return item;
}

function render(): void {
  vscode.setState(state);
  const showHistory = state.panel === 'history';
  historyPanel.hidden = !showHistory;
  messages.hidden = showHistory;
  if (showHistory) renderHistory();

  const ids = new Set(state.turns.map((t) => t.id));
  for (const [id, view] of views) {
    if (!ids.has(id)) {
      view.root.remove();
      views.delete(id);
    }
  }
  if (state.turns.length === 0) {
    messages.replaceChildren(renderWelcome());
  } else {
    messages.querySelector('.welcome')?.remove();
    state.turns.forEach((turn, i) => {
      let view = views.get(turn.id);
      if (!view) {
        view = createTurnView(turn);
        views.set(turn.id, view);
      }
      if (messages.children[i] !== view.root) messages.insertBefore(view.root, messages.children[i] ?? null);
      renderTurn(view, turn, i === state.turns.length - 1);
    });
  }

  const busy = state.activeTurnId !== null;
  messages.setAttribute('aria-busy', String(busy));
  sendButton.hidden = busy;
  stopButton.hidden = !busy;
  sendButton.disabled = input.value.trim() === '';

  attachmentBar.replaceChildren();
  attachmentBar.hidden = state.attachment === null;
  if (state.attachment) attachmentBar.append(contextChip(state.attachment, true));

  noticeBar.hidden = state.notice === null;
  noticeBar.textContent = state.notice?.message ?? '';
  noticeBar.classList.toggle('error', state.notice?.ok === false);

  if (!showHistory) keepAnswerInView();
}

/** Where the newest answer ends: its text, status ("Stopped…") and model line, above the collapsed sources. */
function answerEnd(): number | null {
  const last = state.turns.at(-1);
  const view = last ? views.get(last.id) : undefined;
  if (!view) return null;
  const parts = [view.answer, view.status, view.meta].filter((e) => !e.hidden && e.getClientRects().length > 0);
  return Math.max(...parts.map((e) => e.getBoundingClientRect().bottom));
}

/** Scrolls just enough that the answer's last line is in view, while the reader follows it. */
function keepAnswerInView(): void {
  if (!follow) return;
  const end = answerEnd();
  if (end === null) return;
  const overshoot = end + FOLLOW_MARGIN_PX - messages.getBoundingClientRect().bottom;
  if (overshoot > 0) messages.scrollTop += overshoot;
}

// ---- Events ----

function turnOf(target: Element): ChatTurn | undefined {
  const id = target.closest<HTMLElement>('.turn')?.dataset.turnId;
  return state.turns.find((t) => t.id === id);
}

function lineAttr(v: string | undefined): number {
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

/** A citation or source link: it carries its file and lines; an `[n]` without them falls back to the turn's source n. */
function openLinkTarget(link: HTMLElement): void {
  const path = link.dataset.path;
  if (path) {
    post({ type: 'openSource', file_path: path, start_line: lineAttr(link.dataset.start), end_line: lineAttr(link.dataset.end) });
    return;
  }
  const index = Number(link.dataset.source);
  const turn = turnOf(link);
  const source = turn?.sources.find((s) => s.index === index);
  if (source) post({ type: 'openSource', file_path: source.file_path, start_line: source.start_line, end_line: source.end_line });
}

function regenerate(turn: ChatTurn): void {
  askQuestion(turn.question, { context: turn.context, replaces: turn.id });
}

messages.addEventListener('click', (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;
  const link = target.closest('a');
  if (link) {
    event.preventDefault();
    if (link.dataset.source !== undefined || link.dataset.path !== undefined) openLinkTarget(link);
    else if (/^https?:\/\//i.test(link.getAttribute('href') ?? '')) post({ type: 'openLink', url: link.getAttribute('href') ?? '' });
    return;
  }
  const button = target.closest('button');
  if (!button) return;
  const codeAction = button.dataset.action;
  if (codeAction === 'copy' || codeAction === 'insert') {
    const code = button.closest('.code-block')?.querySelector('code')?.textContent ?? '';
    post(codeAction === 'copy' ? { type: 'copyCode', code } : { type: 'insertCode', code });
    return;
  }
  if (button.dataset.example) {
    askQuestion(button.dataset.example);
    return;
  }
  if (button.dataset.ui === 'regenerate') {
    const turn = turnOf(button);
    if (turn) regenerate(turn);
    return;
  }
  const failureAction = button.dataset.failureAction;
  if (isFailureAction(failureAction)) {
    const turn = turnOf(button);
    if (failureAction === 'retry') {
      if (turn) askQuestion(turn.question, { context: turn.context });
    } else {
      post({ type: 'runAction', action: failureAction });
    }
  }
});

historyPanel.addEventListener('click', (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;
  const button = target.closest('button');
  if (!button) return;
  if (button.dataset.ui === 'back') {
    dispatch({ type: 'ui/panel', panel: 'chat' });
  } else if (button.dataset.ui === 'new') {
    post({ type: 'newChat' });
  } else if (button.dataset.deleteId) {
    post({ type: 'deleteConversation', id: button.dataset.deleteId, title: button.dataset.deleteTitle ?? '' });
  } else if (button.dataset.conversationId) {
    if (state.activeTurnId) post({ type: 'stop' });
    follow = true;
    post({ type: 'loadConversation', id: button.dataset.conversationId });
  }
});

attachmentBar.addEventListener('click', (event) => {
  if (event.target instanceof Element && event.target.closest('[data-ui="detach"]')) {
    dispatch({ type: 'ui/detach' });
    input.focus();
  }
});

// Scrolling up is the reader's intent to look back: stop following at once, before the scroll moves far.
messages.addEventListener('wheel', (event) => {
  if (event.deltaY < 0) follow = false;
}, { passive: true });

let lastScrollTop = 0;
messages.addEventListener('scroll', () => {
  // The reader follows the answer while its end is in view (or the view is at the bottom);
  // scrolling it out of view stops following, and only scrolling down to it resumes.
  // Our own scrolling keeps the end in view, so it never stops following.
  const end = answerEnd();
  const atBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight <= STICKY_PX;
  const endInView = end === null || end <= messages.getBoundingClientRect().bottom + STICKY_PX;
  const down = messages.scrollTop >= lastScrollTop;
  lastScrollTop = messages.scrollTop;
  follow = atBottom || (endInView && (down || follow));
});

// ---- The composer: send, `/` commands, ↑ recall ----

/** Commands matching what follows the `/`, while the input is a lone `/word`. */
function slashMatches(): SlashCommand[] {
  const m = /^\/(\w*)$/.exec(input.value.trim());
  if (!m) return [];
  const typed = (m[1] ?? '').toLowerCase();
  return SLASH_COMMANDS.filter((c) => c.startsWith(typed));
}

let slashActive = 0;

function renderSlashList(): void {
  const matches = slashMatches();
  slashList.replaceChildren();
  slashList.hidden = matches.length === 0;
  input.setAttribute('aria-expanded', String(matches.length > 0));
  if (matches.length === 0) {
    input.removeAttribute('aria-activedescendant');
    return;
  }
  slashActive = Math.min(slashActive, matches.length - 1);
  matches.forEach((c, i) => {
    const item = el('li', i === slashActive ? 'slash-item active' : 'slash-item');
    item.id = `slash-${c}`;
    item.setAttribute('role', 'option');
    item.setAttribute('aria-selected', String(i === slashActive));
    item.dataset.command = c;
    item.append(el('span', 'slash-name', `/${c}`), el('span', 'muted', SLASH_COMMAND_HELP[c]));
    slashList.append(item);
  });
  input.setAttribute('aria-activedescendant', `slash-${matches[slashActive] ?? ''}`);
}

function runSlash(command: SlashCommand): void {
  input.value = '';
  dispatch({ type: 'ui/draft', text: '' });
  slashActive = 0;
  renderSlashList();
  switch (command) {
    case 'new':
      post({ type: 'newChat' });
      return;
    case 'history':
      dispatch({ type: 'showHistory' });
      post({ type: 'listHistory' });
      return;
    case 'similar':
    case 'index':
      post({ type: 'slashCommand', command });
  }
}

slashList.addEventListener('mousedown', (event) => {
  // mousedown, not click: the input keeps focus.
  event.preventDefault();
  const item = event.target instanceof Element ? event.target.closest<HTMLElement>('[data-command]') : null;
  const command = SLASH_COMMANDS.find((c) => c === item?.dataset.command);
  if (command) runSlash(command);
});

function submit(): void {
  if (state.activeTurnId) return;
  const text = input.value;
  if (text.trim() === '') return;
  const command = /^\/(\w+)\s*$/.exec(text.trim());
  const known = SLASH_COMMANDS.find((c) => c === command?.[1]?.toLowerCase());
  if (known) {
    runSlash(known);
    return;
  }
  askQuestion(text, { context: state.attachment });
  input.value = '';
  dispatch({ type: 'ui/draft', text: '' });
  renderSlashList();
}

input.addEventListener('keydown', (event) => {
  const matches = slashMatches();
  if (matches.length > 0 && (event.key === 'ArrowDown' || event.key === 'ArrowUp')) {
    event.preventDefault();
    slashActive = (slashActive + (event.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length;
    renderSlashList();
    return;
  }
  if (matches.length > 0 && (event.key === 'Tab' || (event.key === 'Enter' && !event.shiftKey))) {
    event.preventDefault();
    const chosen = matches[slashActive];
    if (chosen) runSlash(chosen);
    return;
  }
  if (event.key === 'ArrowUp' && input.value === '') {
    // ↑ in an empty input brings back the last question, as in a shell.
    const last = state.turns.at(-1);
    if (last) {
      event.preventDefault();
      input.value = last.question;
      input.setSelectionRange(input.value.length, input.value.length);
      sendButton.disabled = false;
    }
    return;
  }
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  }
});
input.addEventListener('input', () => {
  sendButton.disabled = input.value.trim() === '';
  slashActive = 0;
  renderSlashList();
  state = reduce(state, { type: 'ui/draft', text: input.value });
  vscode.setState(state);
});
input.addEventListener('blur', () => {
  slashList.hidden = true;
});
sendButton.addEventListener('click', submit);
stopButton.addEventListener('click', () => post({ type: 'stop' }));
noticeBar.addEventListener('click', () => dispatch({ type: 'ui/dismissNotice' }));

// ---- Keyboard: Escape stops, Tab stays in the chat ----

function focusables(): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>('a[href], button, textarea, summary, [tabindex]')].filter(
    (e) => e.tabIndex >= 0 && !(e instanceof HTMLButtonElement && e.disabled) && e.getClientRects().length > 0,
  );
}

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') {
    if (!slashList.hidden) {
      slashList.hidden = true;
      event.preventDefault();
    } else if (state.activeTurnId) {
      post({ type: 'stop' });
      event.preventDefault();
    }
    return;
  }
  if (event.key !== 'Tab') return;
  // The chat is a ring: input → Ask/Stop → the conversation → back to the input, never out of the view.
  const ring = focusables();
  const first = ring[0];
  const last = ring.at(-1);
  if (!first || !last) return;
  if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  } else if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  }
});

let noticeTimer: ReturnType<typeof setTimeout> | undefined;

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const action = event.data;
  if (!isToWebview(action)) return;
  switch (action.type) {
    case 'askQuestion':
      dispatch(action);
      askQuestion(action.question, { interrupt: true, context: state.attachment });
      return;
    case 'showHistory':
      dispatch(action);
      post({ type: 'listHistory' });
      return;
    case 'newChat':
      follow = true;
      dispatch(action);
      input.focus();
      return;
    case 'attachContext':
      dispatch(action);
      input.focus();
      return;
    case 'focusInput':
      input.focus();
      return;
    case 'insertAck':
    case 'copyAck':
      dispatch(action);
      clearTimeout(noticeTimer);
      noticeTimer = setTimeout(() => dispatch({ type: 'ui/dismissNotice' }), 2500);
      return;
    default:
      dispatch(action);
  }
});

input.value = state.draft;
if (state.turns.length === 0 && state.conversationId === null) state = { ...initialState(), draft: state.draft, attachment: state.attachment };
render();
post({ type: 'ready' });
if (state.panel === 'history') post({ type: 'listHistory' });
