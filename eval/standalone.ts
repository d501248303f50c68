/**
 * Runs one eval module alone, without the `npm run eval` runner:
 *   npm run eval:one -- answers
 *   npm run eval:one -- filing
 * Prints its title and table; exits 1 when it did not pass.
 */
import { run as answers } from './answers.js';
import { run as filing } from './filing.js';


const modules: Record<string, () => Promise<{ title: string; table: string; passed: boolean }>> = { answers, filing };

const name = process.argv[2] ?? '';
const module = modules[name];
if (!module) {
  console.error(`eval: unknown module "${name}"; use one of ${Object.keys(modules).join(', ')}`);
  process.exit(2);
}
const result = await module();
console.log(`${result.title}\n\n${result.table}`);
process.exit(result.passed ? 0 : 1);
