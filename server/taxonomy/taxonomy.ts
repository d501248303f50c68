import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { UNCATEGORIZED, type TaxonomyPath } from '../../shared/api-types.js';
import { ConfigError } from '../config/settings.js';

const idSchema = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'ids are lowercase letters, digits and dashes');

const leafSchema = z
  .object({
    id: idSchema,
    name: z.string().min(1),
    description: z.string().default(''),
    // YAML reads bare 8000 or 1.5 as numbers; keywords are words either way.
    keywords: z.array(z.coerce.string()).default([]),
  })
  .strict();

const categorySchema = leafSchema.extend({ children: z.array(leafSchema).default([]) }).strict();

export const TaxonomyFileSchema = z.object({ categories: z.array(categorySchema).min(1) }).strict();
export type TaxonomyFile = z.infer<typeof TaxonomyFileSchema>;

/** A node a document can be filed under: a subcategory, or a category without children. */
export interface TaxonomyNode {
  path: TaxonomyPath;
  name: string;
  /** What the classifier embeds for this node. */
  profile: string;
}

export interface Taxonomy {
  file: TaxonomyFile;
  /** The raw text, so caches can tell when it changed. */
  source: string;
  leaves: TaxonomyNode[];
}

export function taxonomyPath(level1: string, level2: string | null): TaxonomyPath {
  return { level1, level2, full_path: level2 ? `${level1}/${level2}` : level1 };
}

export const UNCATEGORIZED_PATH: TaxonomyPath = taxonomyPath(UNCATEGORIZED, null);

export function loadTaxonomy(file: string): Taxonomy {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`${file}: cannot be read; create it (see README "Taxonomy") or set CONFIG_DIR`);
  }
  const parsed = TaxonomyFileSchema.safeParse(parseYaml(source));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${file}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid taxonomy'}`);
  }
  const leaves: TaxonomyNode[] = [];
  for (const cat of parsed.data.categories) {
    const parentText = `${cat.name}. ${cat.description} ${cat.keywords.join(' ')}`;
    if (cat.children.length === 0) leaves.push({ path: taxonomyPath(cat.id, null), name: cat.name, profile: parentText });
    for (const child of cat.children) {
      leaves.push({
        path: taxonomyPath(cat.id, child.id),
        name: child.name,
        profile: `${child.name}. ${child.description} ${child.keywords.join(' ')} ${child.keywords.join(' ')} ${parentText}`,
      });
    }
  }
  return { file: parsed.data, source, leaves };
}

/** Resolves a front-matter `category:` (full path, or a level-1 id) against the taxonomy. */
export function findNode(taxonomy: Taxonomy, category: string): TaxonomyPath | null {
  const wanted = category.trim().toLowerCase().replace(/\s*[>.]\s*/g, '/');
  const leaf = taxonomy.leaves.find((l) => l.path.full_path === wanted);
  if (leaf) return leaf.path;
  const top = taxonomy.file.categories.find((c) => c.id === wanted);
  return top ? taxonomyPath(top.id, null) : null;
}
