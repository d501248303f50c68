/**
 * The chat's state and its reducer: pure, so streaming, errors and history are
 * unit-tested without a webview. The whole state is what `vscode.setState`
 * persists, so a reloaded webview comes back as it was.
 */
import type { AnswerMode, AnswerSource, AskResponse, Citation, Conversation, ConversationSummary } from '../../shared/api-types.js';
import { isRecord } from '../../shared/guards.js';
import {
  STOPPED_CODE,
  isFailureAction,
  isSelectionContext,
  type ChatWelcome,
  type FailureAction,
  type SelectionContext,
  type ToWebview,
} from '../../shared/webview-protocol.js';

export type TurnStatus = 'streaming' | 'done' | 'error' | 'stopped';

export interface TurnError {
  code: string;
  message: string;
  actions: FailureAction[];
}

export interface ChatTurn {
  id: string;
  question: string;
  answer: string;
  sources: AnswerSource[];
  citations: Citation[];
  status: TurnStatus;
  mode: AnswerMode | null;
  /** The extractive-answer banner, when the server answered without Claude. */
  note: string | null;
  /** What the banner offers to do (set a key), when anything. */
  noteAction: FailureAction | null;
  error: TurnError | null;
  confidence: number | null;
  /** The model that answered (AskResponse.model), once known. */
  model: string | null;
  /** The selection the question was asked about (Ask About Selection). */
  context: SelectionContext | null;
  incomplete: boolean;
}

export interface ChatState {
  version: 1;
  conversationId: string | null;
  turns: ChatTurn[];
  /** The turn being streamed, if any: the stop button shows and the input waits. */
  activeTurnId: string | null;
  panel: 'chat' | 'history';
  /** `note`: why the list may look short (conversations are kept per developer). */
  history: { items: ConversationSummary[]; error: string | null; loading: boolean; note?: string | null };
  draft: string;
  /** A short confirmation (copied, inserted) or its failure. */
  notice: { ok: boolean; message: string } | null;
  /** The selection waiting in the composer as a chip, sent with the next question. */
  attachment: SelectionContext | null;
  /** Server, answer mode and example questions for the empty chat. */
  welcome: ChatWelcome | null;
}

/** Actions that start in the webview itself rather than in a host message. */
export type LocalAction =
  | { type: 'ui/panel'; panel: ChatState['panel'] }
  | { type: 'ui/draft'; text: string }
  | { type: 'ui/dismissNotice' }
  | { type: 'ui/detach' };

export type ChatAction = ToWebview | LocalAction;

export function initialState(): ChatState {
  return {
    version: 1,
    conversationId: null,
    turns: [],
    activeTurnId: null,
    panel: 'chat',
    history: { items: [], error: null, loading: false },
    draft: '',
    notice: null,
    attachment: null,
    welcome: null,
  };
}

function updateTurn(state: ChatState, id: string, change: (turn: ChatTurn) => ChatTurn): ChatState {
  let found = false;
  const turns = state.turns.map((t) => {
    if (t.id !== id) return t;
    found = true;
    return change(t);
  });
  return found ? { ...state, turns } : state;
}

function finishedTurn(id: string, question: string, answer: AskResponse, status: TurnStatus): ChatTurn {
  return {
    id,
    question,
    answer: answer.answer,
    sources: answer.sources,
    citations: answer.citations,
    status,
    mode: answer.mode,
    note: null,
    noteAction: null,
    error: null,
    confidence: answer.confidence,
    model: answer.model,
    context: null,
    incomplete: answer.incomplete,
  };
}

function loadConversation(state: ChatState, c: Conversation): ChatState {
  const turns = c.history.map((h, i): ChatTurn => ({
    id: `${c.id}-${i}`,
    question: h.question,
    answer: h.answer,
    sources: h.sources,
    citations: h.citations,
    status: 'done',
    mode: h.mode,
    note: null,
    noteAction: null,
    error: null,
    confidence: h.confidence,
    model: null,
    context: null,
    incomplete: h.incomplete,
  }));
  return { ...state, conversationId: c.id, turns, activeTurnId: null, panel: 'chat' };
}

export function reduce(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'streamStart': {
      // One answer streams at a time; an older one still marked streaming was abandoned.
      // A regenerated answer takes the place of the one it replaces.
      const turns = state.turns
        .filter((t) => t.id !== action.replaces)
        .map((t) => (t.status === 'streaming' ? { ...t, status: 'stopped' as const } : t));
      const turn: ChatTurn = {
        id: action.turnId,
        question: action.question,
        answer: '',
        sources: [],
        citations: [],
        status: 'streaming',
        mode: null,
        note: null,
        noteAction: null,
        error: null,
        confidence: null,
        model: null,
        context: action.context ?? null,
        incomplete: false,
      };
      // The chip went with the question.
      const attachment = action.context ? null : state.attachment;
      return { ...state, turns: [...turns, turn], activeTurnId: action.turnId, panel: 'chat', draft: '', attachment };
    }
    case 'sources':
      return {
        ...updateTurn(state, action.turnId, (t) => ({ ...t, sources: action.sources, mode: action.mode })),
        conversationId: action.conversationId,
      };
    case 'streamDelta':
      return updateTurn(state, action.turnId, (t) => (t.status === 'streaming' ? { ...t, answer: t.answer + action.text } : t));
    case 'streamDone': {
      const r = action.response;
      const next = updateTurn(state, action.turnId, (t) => ({
        ...finishedTurn(t.id, t.question, r, 'done'),
        // The final text is authoritative; an empty one keeps what streamed.
        answer: r.answer !== '' ? r.answer : t.answer,
        sources: r.sources.length > 0 ? r.sources : t.sources,
        note: t.note,
        noteAction: t.noteAction,
        context: t.context,
      }));
      return { ...next, conversationId: r.conversation_id || state.conversationId, activeTurnId: state.activeTurnId === action.turnId ? null : state.activeTurnId };
    }
    case 'streamError': {
      const status: TurnStatus = action.code === STOPPED_CODE ? 'stopped' : 'error';
      const partial = action.partial;
      const next = updateTurn(state, action.turnId, (t) => ({
        ...t,
        // Never lose what was already shown: the streamed text wins unless the partial has more.
        answer: partial && partial.answer.length > t.answer.length ? partial.answer : t.answer,
        sources: t.sources.length > 0 ? t.sources : (partial?.sources ?? []),
        citations: partial?.citations ?? t.citations,
        status,
        incomplete: true,
        error: status === 'stopped' ? null : { code: action.code, message: action.message, actions: action.actions },
      }));
      return {
        ...next,
        conversationId: partial?.conversation_id || state.conversationId,
        activeTurnId: state.activeTurnId === action.turnId ? null : state.activeTurnId,
      };
    }
    case 'extractiveNote':
      return updateTurn(state, action.turnId, (t) => ({ ...t, note: action.text, noteAction: action.action ?? null }));
    case 'history':
      return { ...state, history: { items: action.conversations, error: action.error, loading: false, note: action.note ?? null } };
    case 'conversationLoaded':
      return loadConversation(state, action.conversation);
    case 'conversationDeleted': {
      const items = state.history.items.filter((c) => c.id !== action.id);
      const current = state.conversationId === action.id;
      return {
        ...state,
        history: { ...state.history, items },
        ...(current ? { conversationId: null, turns: [], activeTurnId: null } : {}),
      };
    }
    case 'newChat':
      return { ...state, conversationId: null, turns: [], activeTurnId: null, panel: 'chat', notice: null, attachment: null };
    case 'welcome':
      return { ...state, welcome: action.welcome };
    case 'attachContext':
      return { ...state, attachment: action.context, panel: 'chat' };
    case 'ui/detach':
      return { ...state, attachment: null };
    case 'showHistory':
      return { ...state, panel: 'history', history: { ...state.history, loading: true } };
    case 'askQuestion':
      return { ...state, panel: 'chat' };
    case 'insertAck':
    case 'copyAck':
      return { ...state, notice: { ok: action.ok, message: action.message } };
    case 'ui/panel':
      return { ...state, panel: action.panel, history: action.panel === 'history' ? { ...state.history, loading: true } : state.history };
    case 'ui/draft':
      return { ...state, draft: action.text };
    case 'ui/dismissNotice':
      return { ...state, notice: null };
    case 'focusInput':
      return state;
  }
}

function restoreTurn(v: unknown): ChatTurn | null {
  if (!isRecord(v) || typeof v.id !== 'string' || typeof v.question !== 'string' || typeof v.answer !== 'string') return null;
  const status: TurnStatus = v.status === 'done' || v.status === 'error' || v.status === 'stopped' ? v.status : 'stopped';
  const error = isRecord(v.error) && typeof v.error.message === 'string' && typeof v.error.code === 'string'
    ? { code: v.error.code, message: v.error.message, actions: Array.isArray(v.error.actions) ? v.error.actions.filter(isFailureAction) : [] }
    : null;
  return {
    id: v.id,
    question: v.question,
    answer: v.answer,
    sources: Array.isArray(v.sources) ? v.sources.filter((s): s is AnswerSource => isRecord(s) && typeof s.file_path === 'string') : [],
    citations: Array.isArray(v.citations) ? v.citations.filter((c): c is Citation => isRecord(c) && typeof c.source_index === 'number') : [],
    status,
    mode: v.mode === 'claude' || v.mode === 'extractive' ? v.mode : null,
    note: typeof v.note === 'string' ? v.note : null,
    noteAction: isFailureAction(v.noteAction) ? v.noteAction : null,
    error,
    confidence: typeof v.confidence === 'number' ? v.confidence : null,
    model: typeof v.model === 'string' ? v.model : null,
    context: isSelectionContext(v.context) ? v.context : null,
    // A turn saved mid-stream lost its connection when the webview was reloaded.
    incomplete: v.status === 'streaming' || v.incomplete === true,
  };
}

/** Rebuilds state saved by an earlier webview; anything unreadable starts fresh rather than breaking the chat. */
export function restoreState(saved: unknown): ChatState {
  const fresh = initialState();
  if (!isRecord(saved) || saved.version !== 1 || !Array.isArray(saved.turns)) return fresh;
  const turns = saved.turns.map(restoreTurn).filter((t): t is ChatTurn => t !== null);
  const history = isRecord(saved.history) && Array.isArray(saved.history.items)
    ? saved.history.items.filter((c): c is ConversationSummary => isRecord(c) && typeof c.id === 'string')
    : [];
  return {
    ...fresh,
    conversationId: typeof saved.conversationId === 'string' ? saved.conversationId : null,
    turns,
    panel: saved.panel === 'history' ? 'history' : 'chat',
    history: { items: history, error: null, loading: false },
    draft: typeof saved.draft === 'string' ? saved.draft : '',
    attachment: isSelectionContext(saved.attachment) ? saved.attachment : null,
  };
}
