import { parseFlags, UsageError, type CommandSpec } from '../flags.ts';
import { serverSettings } from '../server-settings.ts';

export const migrateCommand: CommandSpec = {
  name: 'migrate',
  summary: 'Move an embedded installation (SQLite + data folder) to PostgreSQL and S3, losing nothing',
  usage: 'kensa migrate [--data-dir DIR] --to-database postgres://… [--to-blobs s3://…|file:///…] [--json]',
  examples: [
    'kensa migrate --data-dir ./data --to-database postgres://kensa@db/kensa --to-blobs "s3://kensa?endpoint=http://minio:9000"',
  ],
  async run(argv) {
    const { flags, positional } = parseFlags(argv, { string: ['data-dir', 'to-database', 'to-blobs'], boolean: ['json'] });
    if (positional.length) throw new UsageError(`migrate takes no arguments (got ${positional.join(' ')})`);
    const settings = await serverSettings(flags);
    const { moveInstallation } = await import('@kensa/server');
    const databaseUrl = flags['to-database'] ?? settings.databaseUrl;
    if (!databaseUrl) throw new UsageError('--to-database postgres://… is required (the new installation\'s database; it must be empty)');
    const report = await moveInstallation({
      dataDir: settings.dataDir,
      databaseUrl: String(databaseUrl),
      blobUrl: flags['to-blobs'] ? String(flags['to-blobs']) : settings.blobUrl,
      onProgress: (text) => process.stderr.write(`${text}\n`),
    });
    if (flags.json) console.log(JSON.stringify(report));
    else {
      console.log(`Moved ${Object.entries(report.tables).map(([table, n]) => `${n} ${table}`).join(', ')}; ${report.files} files (${report.bytes} bytes).`);
      console.log(`Row counts and ${report.summaries} verdict summaries compared equal. Point the servers at the new database (KENSA_DATABASE_URL) and storage (KENSA_BLOB_URL).`);
    }
    return 0;
  },
};
