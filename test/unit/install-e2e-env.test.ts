import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const script = path.resolve('scripts/install-e2e.sh');

// Issue 10: under `npm test` the e2e installer inherited the outer npm's
// npm_config_user_agent ("node/v20"), and code-server's postinstall refused to
// install although Node 24 ran it. The inner npm commands must see none of it.
describe('install-e2e: inner npm commands', () => {
  it('run without the outer npm run\'s npm_* variables but its registry, proxy and CA settings, keeping the rest', () => {
    const out = execFileSync('bash', ['-c', `source "${script}" --functions-only && without_npm_env env`], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false',
        npm_lifecycle_event: 'pretest',
        NPM_CONFIG_CACHE: '/nonexistent',
        npm_config_cafile: '/etc/ssl/certs/ca-certificates.crt',
        KEEP_ME: 'yes',
      },
      encoding: 'utf8',
    });
    const names = out.split('\n').map((line) => line.split('=', 1)[0] ?? '');
    // The outer run's identity goes; the machine's network settings stay.
    expect(names.filter((name) => /^npm_/i.test(name))).toEqual(['npm_config_cafile']);
    expect(out).toContain('KEEP_ME=yes');
  });
});
