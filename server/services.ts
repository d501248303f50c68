import path from 'node:path';
import { AskService } from './answers/ask-service.js';
import { ConversationStore } from './answers/conversations.js';
import type { Config } from './config/settings.js';
import { openEmbedder } from './embedders/create-embedder.js';
import type { Embedder } from './embedders/embedder.js';
import { LibraryIndexer } from './indexing/indexer.js';
import { SearchService } from './retrieval/search.js';
import { createStore } from './stores/create-store.js';
import type { VectorStore } from './stores/vector-store.js';
import { Classifier } from './taxonomy/classifier.js';
import { loadTaxonomy, type Taxonomy } from './taxonomy/taxonomy.js';

/** Everything a route or the CLI needs, built once per process. */
export interface Services {
  config: Config;
  store: VectorStore;
  embedder: Embedder;
  taxonomy: Taxonomy;
  classifier: Classifier;
  indexer: LibraryIndexer;
  search: SearchService;
  conversations: ConversationStore;
  answers: AskService;
  version: string;
  close(): Promise<void>;
}

export const VERSION = '0.1.0';

export async function createServices(config: Config): Promise<Services> {
  const embedder = await openEmbedder(config);
  const store = createStore(config);
  await store.init({ id: embedder.id, dimension: embedder.dimension });
  const taxonomy = loadTaxonomy(path.join(config.paths.configDir, 'taxonomy.yaml'));
  const classifier = await Classifier.create(
    taxonomy,
    embedder,
    path.join(config.paths.data, 'centroids'),
    config.settings.taxonomy.min_confidence,
  );
  // Centroids learn from documents already filed; cheap when the member set is unchanged.
  await classifier.syncMembers(store);
  const indexer = new LibraryIndexer({ config, store, embedder, classifier });
  const search = new SearchService(store, embedder);
  const conversations = new ConversationStore(config.paths.sessions);
  return {
    config,
    store,
    embedder,
    taxonomy,
    classifier,
    indexer,
    search,
    conversations,
    answers: new AskService({ config, search, conversations }),
    version: VERSION,
    close: () => store.close(),
  };
}
