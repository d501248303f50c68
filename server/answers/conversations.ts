import writeFileAtomic from 'write-file-atomic';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ConversationSchema } from '../../shared/api-schemas.js';
import type { Conversation, ConversationSummary, ConversationTurn } from '../../shared/api-types.js';
import { isRecord } from '../../shared/guards.js';
import { DomainError } from '../errors/domain-error.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../storage/private-files.js';
import { KeyedMutex } from '../storage/keyed-mutex.js';

/** Until server auth names the developer, everyone on one server shares this folder. */
export const DEFAULT_DEVELOPER = 'local';
/** Turns of history sent with each question: enough for follow-ups, a bounded prompt (README "How it works", Answers). */
export const HISTORY_TURNS = 5;
const TITLE_CHARS = 80;
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const DEVELOPER_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export class ConversationNotFoundError extends DomainError {
  override name = 'ConversationNotFoundError';
  constructor(id: string) {
    super('not_found', `conversation "${id}" not found; list conversations with GET /api/conversations, or ask without conversation_id to start a new one`);
  }
}

/** URL-safe, unguessable: 128 random bits. */
export function newConversationId(): string {
  return randomBytes(16).toString('base64url');
}

export function conversationTitle(question: string): string {
  const flat = question.replace(/\s+/g, ' ').trim();
  return flat.length <= TITLE_CHARS ? flat : `${flat.slice(0, TITLE_CHARS - 1).trimEnd()}…`;
}

function isNotFound(e: unknown): boolean {
  return isRecord(e) && e.code === 'ENOENT';
}

/**
 * Conversations as JSON files under `sessions.path`, one folder per developer,
 * one file per conversation. Writes go to a temp file then rename, so a crash
 * never leaves half a conversation; turns of one conversation are serialised.
 */
export class ConversationStore {
  private readonly locks = new KeyedMutex();

  constructor(private readonly root: string) {}

  private folder(developer: string): string {
    if (!DEVELOPER_PATTERN.test(developer) || developer === '.' || developer === '..') {
      throw new DomainError('invalid_request', `developer: "${developer}" must be 1-64 letters, digits, dot, dash or underscore`);
    }
    return path.join(this.root, developer);
  }

  private file(developer: string, id: string): string | null {
    return ID_PATTERN.test(id) ? path.join(this.folder(developer), `${id}.json`) : null;
  }

  private async read(file: string): Promise<Conversation | null> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
    const parsed = ConversationSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`${file}: not a conversation file (${parsed.error.issues[0]?.message ?? 'invalid'}); move it out of the sessions folder`);
    return parsed.data;
  }

  /** Conversations are the developer's own: 0600 files in 0700 folders (private-files.ts). */
  private async write(file: string, conversation: Conversation): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
    await writeFileAtomic(file, JSON.stringify(conversation, null, 2), { mode: PRIVATE_FILE_MODE });
  }

  private exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.locks.run(key, work);
  }

  async get(id: string, developer = DEFAULT_DEVELOPER): Promise<Conversation | null> {
    const file = this.file(developer, id);
    return file ? this.read(file) : null;
  }

  /** Newest first. Files that cannot be read are skipped, so one bad file never hides the rest. */
  async list(developer = DEFAULT_DEVELOPER): Promise<ConversationSummary[]> {
    const dir = this.folder(developer);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (e) {
      if (isNotFound(e)) return [];
      throw e;
    }
    const found = await Promise.all(
      names.filter((n) => n.endsWith('.json')).map((n) => this.read(path.join(dir, n)).catch(() => null)),
    );
    return found
      .filter((c): c is Conversation => c !== null)
      .map(({ id, title, turns, created_at, updated_at }) => ({ id, title, turns, created_at, updated_at }))
      .sort((a, b) => b.updated_at.localeCompare(a.updated_at) || b.created_at.localeCompare(a.created_at));
  }

  async delete(id: string, developer = DEFAULT_DEVELOPER): Promise<boolean> {
    const file = this.file(developer, id);
    if (!file) return false;
    return this.exclusive(file, async () => {
      try {
        await rm(file);
        return true;
      } catch (e) {
        if (isNotFound(e)) return false;
        throw e;
      }
    });
  }

  /** The turns sent to the model as history, oldest first. */
  async history(id: string, developer = DEFAULT_DEVELOPER): Promise<ConversationTurn[]> {
    const conversation = await this.get(id, developer);
    return conversation ? conversation.history.slice(-HISTORY_TURNS) : [];
  }

  /** Appends a turn, creating the conversation on its first turn. */
  async appendTurn(id: string, turn: ConversationTurn, developer = DEFAULT_DEVELOPER): Promise<Conversation> {
    const file = this.file(developer, id);
    if (!file) throw new DomainError('invalid_request', 'conversation_id: must be an id returned by an earlier answer');
    return this.exclusive(file, async () => {
      const existing = await this.read(file);
      const now = turn.created_at;
      const conversation: Conversation = existing
        ? { ...existing, history: [...existing.history, turn], turns: existing.history.length + 1, updated_at: now }
        : { id, title: conversationTitle(turn.question), turns: 1, created_at: now, updated_at: now, history: [turn] };
      await this.write(file, conversation);
      return conversation;
    });
  }
}
