/**
 * `npm run eval`: builds benchmarks from real public text on this machine,
 * runs the product's retrieval against them and prints one markdown table per
 * section. It asserts the claims of each section and exits 1 when one fails;
 * the tests never score retrieval, this does.
 */
import os from 'node:os';
import type { Section } from './section.js';
import * as sections from './sections.js';

console.log(`AI Library eval — node ${process.version}, ${os.cpus().length} cores\n`);
let failed = 0;
const list: Array<[string, Section]> = Object.entries(sections);
for (const [name, section] of list) {
  const started = performance.now();
  const result = await section.run();
  console.log(`\n## ${result.title} — ${result.passed ? 'PASS' : 'FAIL'} (${((performance.now() - started) / 1000).toFixed(0)} s, ${name})\n`);
  console.log(result.table);
  if (!result.passed) failed += 1;
}
if (failed > 0) process.exitCode = 1;
