// The eval's sections, in print order: one line per module exporting `run(): Promise<SectionResult>`.
export * as retrieval from './retrieval.js';
export * as answers from './answers.js';
export * as filing from './filing.js';
