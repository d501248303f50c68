/**
 * Runs one section of the eval alone, without the `npm run eval` runner:
 *   npm run eval:one -- answers
 *   npm run eval:one -- filing
 * Prints its title and table; exits 1 when it did not pass.
 */
import * as sections from './sections.js';
import type { Section } from './section.js';

const modules: Record<string, Section> = sections;
const name = process.argv[2] ?? '';
const module = modules[name];
if (!module) {
  console.error(`eval: unknown section "${name}"; use one of ${Object.keys(modules).join(', ')}`);
  process.exit(2);
}
const result = await module.run();
console.log(`${result.title}\n\n${result.table}`);
process.exit(result.passed ? 0 : 1);
