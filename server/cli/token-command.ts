import type { Command } from 'commander';
import { TokenError, TokenStore, type IssuedToken, type TokenInfo } from '../auth/token-store.js';
import { withConfig } from './migrate-command.js';

/** Token problems (bad name, unknown name) are operator errors: one line, exit 1, no stack. */
async function withTokens(action: (tokens: TokenStore) => number): Promise<number> {
  return withConfig(async (config) => {
    const tokens = TokenStore.open(config.paths.data);
    try {
      return action(tokens);
    } catch (e) {
      if (e instanceof TokenError) {
        console.error(`ai-library: ${e.message}`);
        return 1;
      }
      throw e;
    } finally {
      tokens.close();
    }
  });
}

/**
 * The token alone goes to stdout (so it can be piped into a password manager);
 * the explanation goes to stderr. It is never written anywhere else.
 */
function printIssued(issued: IssuedToken, verb: string): void {
  const role = issued.info.admin ? 'admin' : 'developer';
  console.error(`${verb} token "${issued.info.name}" (${role}). It is shown once; hand it over privately.`);
  console.log(issued.token);
  console.error('The developer stores it with "AI Library: Set Server Token", or sends it as Authorization: Bearer <token>.');
}

function formatRow(t: TokenInfo): string {
  return [t.name.padEnd(24), (t.admin ? 'admin' : 'developer').padEnd(10), t.created_at.padEnd(25), t.last_used_at ?? 'never'].join(' ');
}

export function registerTokenCommand(program: Command): void {
  const token = program
    .command('token')
    .description('server tokens, one per developer: with any token, every /api request needs Authorization: Bearer <token>');
  token
    .command('create <name>')
    .description('create a token for <name> and print it once (only its SHA-256 is stored)')
    .option('--admin', 'may take snapshots, re-index everything and delete anyone\'s documents')
    .action(async (name: string, opts: { admin?: boolean }) => {
      process.exitCode = await withTokens((tokens) => {
        printIssued(tokens.create(name, { admin: opts.admin === true }), 'created');
        console.error(`Its hash is in ${tokens.file}; a running server on this DATA_DIR accepts it at once.`);
        return 0;
      });
    });
  token
    .command('list')
    .description('list tokens: name, role, created, last used (never the token)')
    .action(async () => {
      process.exitCode = await withTokens((tokens) => {
        const all = tokens.list();
        if (all.length === 0) {
          console.error('no tokens: the server answers only its own machine, as "local"; create one with "npm run token -- create <name>"');
          return 0;
        }
        console.log(['NAME'.padEnd(24), 'ROLE'.padEnd(10), 'CREATED'.padEnd(25), 'LAST USED'].join(' '));
        all.forEach((t) => console.log(formatRow(t)));
        return 0;
      });
    });
  token
    .command('rotate <name>')
    .description('replace <name>\'s token with a new one (printed once); the old one stops working at once')
    .action(async (name: string) => {
      process.exitCode = await withTokens((tokens) => {
        printIssued(tokens.rotate(name), 'rotated');
        return 0;
      });
    });
  token
    .command('revoke <name>')
    .description('delete <name>\'s token; requests with it get 401 from the next request on')
    .action(async (name: string) => {
      process.exitCode = await withTokens((tokens) => {
        if (!tokens.revoke(name)) throw new TokenError(`no token named "${name}"; see "npm run token -- list"`);
        const left = tokens.count();
        console.error(`revoked "${name}"; ${left} token(s) left.`);
        if (left === 0) console.error('With no tokens left the server answers only its own machine; a server bound to another address refuses to start.');
        return 0;
      });
    });
}
