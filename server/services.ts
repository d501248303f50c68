import path from 'node:path';
import { AskService } from './answers/ask-service.js';
import { ConversationStore } from './answers/conversations.js';
import { TokenStore } from './auth/token-store.js';
import type { Config } from './config/settings.js';
import { openEmbedder } from './embedders/create-embedder.js';
import type { Embedder } from './embedders/embedder.js';
import { LibraryIndexer } from './indexing/indexer.js';
import { OwnerStore } from './indexing/owner-store.js';
import { JobRunner } from './jobs/job-runner.js';
import { JobStore } from './jobs/job-store.js';
import { IndexActivity } from './observability/index-activity.js';
import { InstrumentedChatModel, InstrumentedEmbedder } from './observability/instrument.js';
import { Metrics, type BreakerReading } from './observability/metrics.js';
import { breakerSettingsFrom } from './reliability/circuit-breaker.js';
import { DiskSpace } from './reliability/disk-space.js';
import { SearchService } from './retrieval/search.js';
import { createStore } from './stores/create-store.js';
import type { VectorStore } from './stores/vector-store.js';
import { securePrivateState } from './storage/private-files.js';
import { LibraryCatalog } from './taxonomy/catalog.js';
import { Classifier } from './taxonomy/classifier.js';
import { loadTaxonomy, type Taxonomy } from './taxonomy/taxonomy.js';
import { meteredMistral } from './usage/recording-embedder.js';
import { openUsageMeter, paidIndexingCheck, type UsageMeter } from './usage/usage-meter.js';

/** Everything a route or the CLI needs, built once per process. */
export interface Services {
  config: Config;
  store: VectorStore;
  embedder: Embedder;
  taxonomy: Taxonomy;
  classifier: Classifier;
  /** Resolves once the classifier can file documents (at once when its centroids were cached). */
  taxonomyReady: Promise<void>;
  indexer: LibraryIndexer;
  /** What GET /health says about indexing: the run under way or the last one, from the indexer's events. */
  indexing: IndexActivity;
  search: SearchService;
  /** The taxonomy tree and documents as readers see them (HTTP routes and MCP). */
  catalog: LibraryCatalog;
  conversations: ConversationStore;
  answers: AskService;
  /** Server tokens (DATA_DIR/tokens.sqlite), shared with `npm run token`. */
  tokens: TokenStore;
  /** Paid tokens per developer and day (DATA_DIR/usage.sqlite) and the monthly budget. */
  usage: UsageMeter;
  /** Prometheus series for GET /metrics; one Registry per Services. */
  metrics: Metrics;
  /** Full and folder re-indexes as jobs (DATA_DIR/jobs.sqlite), shared by the API, the CLI and startup. */
  jobs: JobRunner;
  /** Free space of the folders the server writes; names the folder of a disk-full error (507) and tells /health. */
  disk: DiskSpace;
  version: string;
  close(): Promise<void>;
}

export const VERSION = '0.1.0';

export async function createServices(config: Config): Promise<Services> {
  // Before any store opens: state left 0644/0755 by an older version is made private too.
  securePrivateState(config.paths.data, config.paths.sessions);
  const usage = openUsageMeter(config);
  // Priced by the usage tracker's table, so the cost series and the usage reports agree.
  const metrics = new Metrics({ pricing: usage.pricing });
  const embeddingProvider = config.settings.embeddings.provider;
  const embedder = await openEmbedder(config, {
    wrapPaid: meteredMistral(usage),
    wrapProvider: (inner) => new InstrumentedEmbedder(inner, metrics, embeddingProvider),
  });
  const store = createStore(config);
  await store.init({ id: embedder.id, dimension: embedder.dimension });
  metrics.observeStore(() => store.count());
  const taxonomy = loadTaxonomy(path.join(config.paths.configDir, 'taxonomy.yaml'));
  const classifier = Classifier.create(taxonomy, embedder, path.join(config.paths.data, 'centroids'), config.settings.taxonomy.min_confidence);
  // Centroids learn from documents already filed; cheap when the member set is unchanged.
  await classifier.syncMembers(store);
  // On a fresh DATA_DIR the category descriptions still need embedding; a remote embedder that is down
  // must not stop the server from starting, so this retries in the background (issue 12, defect 8).
  const taxonomyReady = classifier.prepareInBackground();
  const owners = OwnerStore.open(config.paths.data);
  const indexer = new LibraryIndexer({
    config,
    owners,
    store,
    embedder,
    classifier,
    budgetCheck: paidIndexingCheck(config, usage),
  });
  metrics.observeIndexing(indexer.events);
  const indexing = new IndexActivity(indexer.events);
  const search = new SearchService(store, embedder, (mode, seconds) => {
    metrics.searches.inc({ mode });
    metrics.searchDuration.observe({ mode }, seconds);
  });
  const jobs = new JobRunner({
    store: new JobStore(config.paths.data),
    indexer,
    onStateChange: (job) => metrics.indexJobs.inc({ kind: job.kind, state: job.state }),
  });
  // A job left running by a process that died (crash, kill) is failed now, so nobody waits on it.
  jobs.recover();
  const conversations = new ConversationStore(config.paths.sessions);
  const disk = new DiskSpace({ DATA_DIR: config.paths.data, LIBRARY_PATH: config.paths.library, SESSIONS_PATH: config.paths.sessions });
  const tokens = TokenStore.open(config.paths.data);
  const answers = new AskService({
    config,
    search,
    conversations,
    breaker: breakerSettingsFrom(config),
    usage,
    wrapModel: (model) => new InstrumentedChatModel(model, metrics),
  });
  metrics.observeCircuitBreakers(() => {
    const readings: BreakerReading[] = [{ provider: 'claude', state: answers.breaker.state }];
    if (embedder.breaker) readings.push({ provider: embeddingProvider, state: embedder.breaker.state });
    if (store.breaker) readings.push({ provider: store.kind, state: store.breaker.state });
    return readings;
  });
  return {
    config,
    store,
    embedder,
    taxonomy,
    classifier,
    taxonomyReady,
    indexer,
    indexing,
    search,
    catalog: new LibraryCatalog(config.paths.library, store, taxonomy),
    conversations,
    answers,
    tokens,
    usage,
    metrics,
    jobs,
    disk,
    version: VERSION,
    close: async () => {
      classifier.stop();
      // First: the running job finishes its current file while the store is still open.
      await jobs.close();
      tokens.close();
      usage.close();
      owners.close();
      await store.close();
    },
  };
}
