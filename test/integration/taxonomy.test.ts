import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocumentResponse, DocumentSummary, ErrorBody, TaxonomyResponse, TaxonomyTreeNode } from '../../shared/api-types.js';
import { parseFrontMatter } from '../../server/text/front-matter.js';
import { findNode } from '../../server/taxonomy/taxonomy.js';
import { reclassify } from '../../server/taxonomy/reclassify.js';
import { startServer, tempEnv, type RunningServer, type TempEnv } from '../helpers/temp-env.js';

/** No front matter: it has to be filed by its words alone. */
const RESTORE_DRILL = `# Quarterly restore drill

Once a quarter we restore the newest daily backup archive onto a spare machine to prove that backups work.
Unpack the backup archive into a fresh data folder, recover the Qdrant snapshot from the archive, and check
that search returns results. Note how long the restore took. A backup that cannot be restored is not a backup,
so keep the retention long enough to go back to the last good snapshot.
`;

/** Nothing the taxonomy describes. */
const NONSENSE = `Zyxwv qopmn tlkjh gfedc. Vbxq zzkr plmo wqty. Xoxo quaz vemp lurq zib zab zub.`;

function allDocuments(nodes: TaxonomyTreeNode[]): Array<{ node: string; doc: DocumentSummary }> {
  return nodes.flatMap((n) => [...n.documents.map((doc) => ({ node: n.full_path, doc })), ...allDocuments(n.children)]);
}

describe('taxonomy: classification, the Library tree, documents, reclassify', () => {
  let env: TempEnv;
  let server: RunningServer;

  beforeAll(async () => {
    env = tempEnv({ 'notes/restore-drill.md': RESTORE_DRILL, 'notes/nonsense.md': NONSENSE }, { copyLibrary: true });
    server = await startServer(env.env, env.root);
    const res = await server.services.indexer.indexAll();
    expect(res.summary.failed).toBe(0);
  });

  afterAll(async () => {
    await server?.close();
    env?.cleanup();
  });

  it('files every starter document under its front-matter category', async () => {
    const files = await server.services.store.listFiles();
    const withCategory = files.filter((f) => f.file_path.endsWith('.md') && !f.file_path.startsWith('notes/'));
    expect(withCategory.length).toBeGreaterThanOrEqual(10);
    for (const f of withCategory) {
      const { data } = parseFrontMatter(readFileSync(path.join(env.library, f.file_path), 'utf8'));
      expect(typeof data.category, f.file_path).toBe('string');
      const wanted = findNode(server.services.taxonomy, String(data.category));
      expect(wanted, `${f.file_path}: category ${String(data.category)} is not in taxonomy.yaml`).not.toBeNull();
      expect(f.taxonomy.full_path, f.file_path).toBe(wanted?.full_path);
      expect(f.confidence).toBe(1);
    }
  });

  it('files a document without front matter by centroid, before and after centroids learn from members', async () => {
    const { store, classifier } = server.services;
    // Indexed with description centroids (the store was empty at start-up).
    expect((await store.getFile('notes/restore-drill.md'))?.taxonomy.full_path).toBe('operations/backup-restore');
    const summary = await reclassify({ store, classifier, libraryRoot: env.library });
    expect(summary.files).toBe((await store.listFiles()).length);
    expect(summary.members).toBeGreaterThanOrEqual(10);
    expect((await store.getFile('notes/restore-drill.md'))?.taxonomy.full_path).toBe('operations/backup-restore');
    // Text about nothing in the taxonomy is not forced into a category.
    const nonsense = await store.getFile('notes/nonsense.md');
    expect(nonsense?.taxonomy.full_path).toBe('uncategorized');
    expect(nonsense?.confidence).toBeLessThan(0.2);
  });

  it('member-aware centroids file each starter document where its author put it, even without its front matter', async () => {
    // Leave-one-out: each document is compared with centroids built without it,
    // as a new document on the same topic would be.
    const { store, classifier } = server.services;
    const members = (await store.listFiles()).filter((f) => f.confidence === 1);
    let right = 0;
    const wrong: string[] = [];
    for (const f of members) {
      const vectors = (await store.fileChunks(f.file_path)).map((p) => p.vector);
      const got = classifier.classify(vectors, undefined, f.file_path);
      if (got.taxonomy.full_path === f.taxonomy.full_path) right++;
      else wrong.push(`${f.file_path}: ${f.taxonomy.full_path} -> ${got.taxonomy.full_path}`);
    }
    expect(right / members.length, wrong.join('\n')).toBeGreaterThanOrEqual(0.85);
  });

  it('caches member centroids under DATA_DIR/centroids and rebuilds them when the member set changes', async () => {
    const dir = path.join(env.env.DATA_DIR ?? '', 'centroids');
    expect(existsSync(dir)).toBe(true);
    const cached = () => readdirSync(dir).filter((n) => n.startsWith('members-'));
    expect(cached()).toHaveLength(1);
    expect((await server.services.classifier.syncMembers(server.services.store)).rebuilt).toBe(false);
    const first = cached()[0];
    env.write('notes/new-runbook.md', '---\ntitle: Restore runbook\ncategory: operations/backup-restore\n---\n# Restore runbook\n\nRecover the snapshot, then unpack the archive.\n');
    await server.services.indexer.indexPath('notes/new-runbook.md');
    expect((await server.services.classifier.syncMembers(server.services.store)).rebuilt).toBe(true);
    expect(cached()).toHaveLength(1);
    expect(cached()[0]).not.toBe(first);
  });

  it('lists every library document exactly once in the tree, with counts', async () => {
    const res = await fetch(`${server.url}/api/library/taxonomy`);
    expect(res.status).toBe(200);
    const tree = (await res.json()) as TaxonomyResponse;
    const files = await server.services.store.listFiles();
    const listed = allDocuments(tree.categories);
    expect(listed.map((d) => d.doc.file_path).sort()).toEqual(files.map((f) => f.file_path).sort());
    expect(new Set(listed.map((d) => d.doc.file_path)).size).toBe(listed.length);
    expect(tree.total_documents).toBe(files.length);
    expect(tree.categories.reduce((n, c) => n + c.document_count, 0)).toBe(files.length);

    const level1 = tree.categories.map((c) => c.id);
    expect(level1).toEqual([...server.services.taxonomy.file.categories.map((c) => c.id), 'uncategorized']);
    const ops = tree.categories.find((c) => c.id === 'operations');
    expect(ops?.document_count).toBe((ops?.documents.length ?? 0) + (ops?.children ?? []).reduce((n, c) => n + c.document_count, 0));

    const at = (file: string) => listed.find((d) => d.doc.file_path === file);
    expect(at('operations/backup-and-restore.md')?.node).toBe('operations/backup-restore');
    expect(at('operations/backup-and-restore.md')?.doc.title).toBe('Backup and Restore');
    expect(at('notes/restore-drill.md')?.doc.title).toBe('Quarterly restore drill');
    expect(at('notes/nonsense.md')?.node).toBe('uncategorized');
    expect(at('notes/nonsense.md')?.doc.title).toBe('nonsense.md');
  });

  it('returns a document with its full text and metadata', async () => {
    const res = await fetch(`${server.url}/api/library/documents?path=${encodeURIComponent('guides/searching.md')}`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as DocumentResponse;
    expect(doc.content).toBe(readFileSync(path.join(env.library, 'guides/searching.md'), 'utf8'));
    expect(doc).toMatchObject({ file_path: 'guides/searching.md', title: 'Searching the Library', content_type: 'markdown', confidence: 1 });
    expect(doc.taxonomy.full_path).toBe('using-the-library/searching');
    expect(doc.chunks).toBeGreaterThan(0);
    expect(doc.file_hash).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses paths outside the library and explains missing ones', async () => {
    const get = async (q: string) => {
      const res = await fetch(`${server.url}/api/library/documents${q}`);
      return { status: res.status, body: (await res.json()) as ErrorBody };
    };
    for (const q of ['?path=../configs/settings.yaml', '?path=guides/../../configs/settings.yaml', '?path=%2e%2e%2fconfigs%2fsettings.yaml', '?path=/etc/passwd']) {
      const r = await get(q);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code, q).toBe('invalid_path');
    }
    expect((await get('')).status).toBe(400);
    const missing = await get('?path=guides/nope.md');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain('not indexed');
  });

  it('reclassify changes taxonomy only: vectors and ids stay', async () => {
    const { store, classifier } = server.services;
    const file = 'operations/backup-and-restore.md';
    const before = await store.fileChunks(file);
    await store.setTaxonomy(file, { full_path: 'engineering/testing', level1: 'engineering', level2: 'testing' }, 0.2);
    const summary = await reclassify({ store, classifier, libraryRoot: env.library });
    expect(summary.moves).toContainEqual(expect.objectContaining({ file_path: file, to: expect.objectContaining({ full_path: 'operations/backup-restore' }) }));
    const after = await store.fileChunks(file);
    expect(after.map((p) => p.id)).toEqual(before.map((p) => p.id));
    after.forEach((p, i) => expect(Array.from(p.vector)).toEqual(Array.from(before[i]?.vector ?? [])));
    expect(after.every((p) => p.payload.taxonomy.full_path === 'operations/backup-restore')).toBe(true);
    expect((await store.getFile(file))?.confidence).toBe(1);
    // A second run has nothing to move.
    expect((await reclassify({ store, classifier, libraryRoot: env.library })).moves).toEqual([]);
  });
});
