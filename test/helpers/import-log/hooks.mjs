// Module resolution hooks (node:module register) for a server process under test: each
// resolved module URL is appended to the file IMPORT_LOG names. Plain JavaScript: it runs
// in the spawned node process, not under vitest.
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (process.env.IMPORT_LOG) appendFileSync(process.env.IMPORT_LOG, `${resolved.url}\n`);
  return resolved;
}
