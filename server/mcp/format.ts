import type { AnswerSource, AskResponse, DocumentResponse, IndexFileResult, SearchResponse, SearchResult, TaxonomyResponse, TaxonomyTreeNode } from '../../shared/api-types.js';

/**
 * Tool results as text an agent reads and cites: every passage starts with
 * `path:start-end` and its section, the form editors and agents link.
 */
function where(p: { file_path: string; start_line: number; end_line: number; section: string }): string {
  return `${p.file_path}:${p.start_line}-${p.end_line}${p.section ? ` § ${p.section}` : ''}`;
}

function passage(r: SearchResult, i: number): string {
  return `[${i + 1}] ${where(r)} (score ${r.score.toFixed(3)}, taxonomy ${r.taxonomy.full_path}, id ${r.id})\n${r.content.trim()}`;
}

export function formatSearch(res: SearchResponse, heading: string): string {
  if (res.results.length === 0) return `${heading}: nothing found. Try other words, mode "keyword" for identifiers, or fewer filters.`;
  return [`${heading}: ${res.results.length} passage(s), best first. Cite them as path:lines.`, ...res.results.map(passage)].join('\n\n');
}

function source(s: AnswerSource): string {
  return `[${s.index}] ${where(s)}`;
}

export function formatAnswer(res: AskResponse): string {
  const lines = [res.answer.trim(), ''];
  if (res.sources.length > 0) lines.push('Sources:', ...res.sources.map(source), '');
  lines.push(
    `(mode ${res.mode}${res.model ? `, model ${res.model}` : ''}; confidence ${res.confidence.toFixed(2)}; conversation_id ${res.conversation_id} continues this conversation)`,
  );
  return lines.join('\n');
}

export function formatDocument(doc: DocumentResponse, first: number, last: number, total: number): string {
  const range = total === 0 ? 'empty' : `lines ${first}-${last} of ${total}`;
  return `${doc.file_path} — "${doc.title}" (${range}; ${doc.content_type}; taxonomy ${doc.taxonomy.full_path}; contributor ${doc.contributor ?? 'none'})\n\n${doc.content}`;
}

function node(n: TaxonomyTreeNode, depth: number): string[] {
  const pad = '  '.repeat(depth);
  return [
    `${pad}${n.full_path} (${n.document_count}) — ${n.name}`,
    ...n.documents.map((d) => `${pad}  - ${d.file_path} — ${d.title}`),
    ...n.children.flatMap((child) => node(child, depth + 1)),
  ];
}

export function formatTaxonomy(tree: TaxonomyResponse): string {
  return [`${tree.total_documents} document(s) by category; read one with get_document {"path": ...}.`, ...tree.categories.flatMap((c) => node(c, 0))].join('\n');
}

export function formatIndexed(result: IndexFileResult): string {
  const filed = result.taxonomy ? `, filed under ${result.taxonomy.full_path}` : '';
  return `${result.status} ${result.file_path}: ${result.chunks} chunk(s)${filed}. Search it with search_library or read it with get_document {"path": "${result.file_path}"}.`;
}
