import { Command } from 'commander';
import { registerBackupCommand, registerRestoreCommand } from './cli/backup-command.js';
import { registerIndexCommand } from './cli/index-command.js';
import { registerMigrateCommand } from './cli/migrate-command.js';
import { registerSnapshotCommand } from './cli/snapshot-command.js';
import { registerTokenCommand } from './cli/token-command.js';
import { registerUsageCommand } from './cli/usage-command.js';
import { VERSION } from './services.js';
import { runningAs } from './usage/usage-scope.js';

// Paid tokens spent by CLI commands (index, reclassify) are charged to "cli".
runningAs('cli');
const program = new Command('ai-library').description('AI Library command line').version(VERSION);
registerIndexCommand(program);
registerMigrateCommand(program);
registerSnapshotCommand(program);
registerTokenCommand(program);
registerBackupCommand(program);
registerRestoreCommand(program);
registerUsageCommand(program);
await program.parseAsync(process.argv);
