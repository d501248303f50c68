import { Command } from 'commander';
import { registerIndexCommand } from './cli/index-command.js';
import { registerMigrateCommand } from './cli/migrate-command.js';
import { registerSnapshotCommand } from './cli/snapshot-command.js';
import { VERSION } from './services.js';

const program = new Command('ai-library').description('AI Library command line').version(VERSION);
registerIndexCommand(program);
registerMigrateCommand(program);
registerSnapshotCommand(program);
await program.parseAsync(process.argv);
