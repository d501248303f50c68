/**
 * The chat webview. It renders state and forwards intents; the extension host
 * makes every server call. DOM is built with textContent except for answer
 * markdown, which goes through the sanitizing renderer.
 */
import type { AnswerSource, ConversationSummary } from '../../shared/api.js';
import { FAILURE_ACTION_LABELS, isFailureAction, isToWebview, type FromWebview } from '../../shared/webview-protocol.js';
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
/** How close to the bottom counts as "at the bottom" for auto-scroll. */
const STICKY_PX = 40;

let state: ChatState = restoreState(vscode.getState());
let renderTimer: ReturnType<typeof setTimeout> | undefined;
let stickToBottom = true;

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

/** Per turn: its element and what was last rendered into it, so unchanged turns are not re-rendered. */
interface TurnView {
  root: HTMLElement;
  question: HTMLElement;
  note: HTMLElement;
  answer: HTMLElement;
  status: HTMLElement;
  sources: HTMLElement;
  rendered: { answer: string; sourcesKey: string; statusKey: string; note: string | null };
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

/** `interrupt`: a question from the host (Ask About Selection) replaces a running answer instead of waiting. */
function askQuestion(question: string, interrupt = false): void {
  const text = question.trim();
  if (!text || (state.activeTurnId && !interrupt)) return;
  stickToBottom = true;
  post({ type: 'ask', question: text, conversationId: state.conversationId });
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
  const sources = el('div', 'sources');
  root.append(question, note, answer, status, sources);
  question.innerHTML = renderer.render(turn.question);
  return { root, question, note, answer, status, sources, rendered: { answer: '\0', sourcesKey: '', statusKey: '', note: null } };
}

function lines(s: AnswerSource): string {
  if (s.start_line <= 0) return '';
  return s.end_line > s.start_line ? `lines ${s.start_line}–${s.end_line}` : `line ${s.start_line}`;
}

function renderSources(view: TurnView, turn: ChatTurn): void {
  const key = turn.sources.map((s) => `${s.index}:${s.file_path}:${s.start_line}`).join('|');
  if (key === view.rendered.sourcesKey) return;
  view.rendered.sourcesKey = key;
  view.sources.replaceChildren();
  if (turn.sources.length === 0) return;
  const details = el('details');
  details.open = true;
  details.append(el('summary', undefined, `Sources (${turn.sources.length})`));
  const list = el('ol', 'source-list');
  for (const s of turn.sources) {
    const item = el('li');
    item.value = s.index;
    const link = el('a', 'source-link', s.file_path);
    link.href = '#';
    link.dataset.source = String(s.index);
    link.title = `Open ${s.file_path} ${lines(s)}`.trim();
    const meta = [s.section, lines(s), `score ${s.score.toFixed(3)}`].filter(Boolean).join(' · ');
    item.append(link, el('span', 'source-meta', meta));
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
    for (const action of turn.error.actions) {
      const button = el('button', 'secondary', FAILURE_ACTION_LABELS[action]);
      button.type = 'button';
      button.dataset.failureAction = action;
      actions.append(button);
    }
    box.append(actions);
    view.status.append(box);
  } else if (turn.status === 'done' && turn.answer.trim() === '') {
    view.status.append(el('span', 'muted', 'The server returned an empty answer.'));
  }
}

function renderTurn(view: TurnView, turn: ChatTurn): void {
  if (turn.note !== view.rendered.note) {
    view.rendered.note = turn.note;
    view.note.textContent = turn.note ?? '';
    view.note.hidden = turn.note === null;
  }
  // Keyed on the text and the source count: citations become links once sources arrive.
  const answerKey = `${turn.sources.length}\n${turn.answer}`;
  if (answerKey !== view.rendered.answer) {
    view.rendered.answer = answerKey;
    view.answer.innerHTML = renderer.render(turn.answer, { sourceCount: turn.sources.length });
  }
  renderStatus(view, turn);
  renderSources(view, turn);
}

function renderWelcome(): HTMLElement {
  const box = el('div', 'welcome');
  box.append(
    el('h2', undefined, 'Ask the library'),
    el('p', undefined, 'Questions are answered from the team\u2019s shared library. Every answer lists its sources; click a source or a [n] citation to open it at the cited lines.'),
    el('p', 'muted', 'Enter sends, Shift+Enter adds a line. Select code in an editor and run \u201cAI Library: Ask About Selection\u201d to ask about it.'),
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
      renderTurn(view, turn);
    });
  }

  const busy = state.activeTurnId !== null;
  sendButton.hidden = busy;
  stopButton.hidden = !busy;
  sendButton.disabled = input.value.trim() === '';

  noticeBar.hidden = state.notice === null;
  noticeBar.textContent = state.notice?.message ?? '';
  noticeBar.classList.toggle('error', state.notice?.ok === false);

  if (stickToBottom && !showHistory) messages.scrollTop = messages.scrollHeight;
}

// ---- Events ----

function turnOf(target: Element): ChatTurn | undefined {
  const id = target.closest<HTMLElement>('.turn')?.dataset.turnId;
  return state.turns.find((t) => t.id === id);
}

function openSource(turn: ChatTurn | undefined, index: number): void {
  const source = turn?.sources.find((s) => s.index === index) ?? turn?.sources[index - 1];
  if (source) post({ type: 'openSource', file_path: source.file_path, start_line: source.start_line, end_line: source.end_line });
}

messages.addEventListener('click', (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;
  const link = target.closest('a');
  if (link) {
    event.preventDefault();
    const source = link.dataset.source;
    if (source !== undefined) openSource(turnOf(link), Number(source));
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
  const failureAction = button.dataset.failureAction;
  if (isFailureAction(failureAction)) {
    const turn = turnOf(button);
    if (failureAction === 'retry') {
      if (turn) askQuestion(turn.question);
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
    stickToBottom = true;
    post({ type: 'loadConversation', id: button.dataset.conversationId });
  }
});

messages.addEventListener('scroll', () => {
  // Scrolling up to read pauses auto-scroll; reaching the bottom again resumes it.
  stickToBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight <= STICKY_PX;
});

function submit(): void {
  if (state.activeTurnId) return;
  const text = input.value;
  if (text.trim() === '') return;
  askQuestion(text);
  input.value = '';
  dispatch({ type: 'ui/draft', text: '' });
}

input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    submit();
  }
});
input.addEventListener('input', () => {
  sendButton.disabled = input.value.trim() === '';
  state = reduce(state, { type: 'ui/draft', text: input.value });
  vscode.setState(state);
});
sendButton.addEventListener('click', submit);
stopButton.addEventListener('click', () => post({ type: 'stop' }));
noticeBar.addEventListener('click', () => dispatch({ type: 'ui/dismissNotice' }));

let noticeTimer: ReturnType<typeof setTimeout> | undefined;

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const action = event.data;
  if (!isToWebview(action)) return;
  switch (action.type) {
    case 'askQuestion':
      dispatch(action);
      askQuestion(action.question, true);
      return;
    case 'showHistory':
      dispatch(action);
      post({ type: 'listHistory' });
      return;
    case 'newChat':
      stickToBottom = true;
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
if (state.turns.length === 0 && state.conversationId === null) state = { ...initialState(), draft: state.draft };
render();
post({ type: 'ready' });
if (state.panel === 'history') post({ type: 'listHistory' });
