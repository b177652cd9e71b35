import { migrate } from '../../src/store/migrate';
import { PgliteDatabase } from '../../src/store/pglite-database';

let template: Promise<Blob> | undefined;

/** A copy of a freshly migrated database, made once per test process. */
function migratedTemplate(): Promise<Blob> {
  template ??= (async () => {
    const db = new PgliteDatabase();
    try {
      await db.ready();
      await migrate(db, 'template');
      return await db.dump();
    } finally {
      await db.close();
    }
  })();
  return template;
}

/**
 * A new, migrated, in-memory PGlite database. A new one costs an initdb and every migration
 * (seconds of CPU each time); the first of a test process is copied and the others start from
 * that copy, which takes a fraction of it.
 */
export async function migratedPglite(): Promise<PgliteDatabase> {
  const db = new PgliteDatabase({ from: await migratedTemplate() });
  await db.ready();
  return db;
}
