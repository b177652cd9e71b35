import { createHash } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MIGRATIONS } from '../../src/store/migrations';
import { migrate } from '../../src/store/migrate';
import { PgliteDatabase } from '../../src/store/pglite-database';

/** The PGlite release and the migrations a copy was made with: a copy of any other is not used. */
function templateKey(): string {
  const pgliteDir = dirname(dirname(require.resolve('@electric-sql/pglite')));
  const { version } = JSON.parse(readFileSync(join(pgliteDir, 'package.json'), 'utf8')) as { version: string };
  return createHash('sha256').update(version).update(JSON.stringify(MIGRATIONS)).digest('hex').slice(0, 16);
}

async function makeTemplate(): Promise<Blob> {
  const db = new PgliteDatabase();
  try {
    await db.ready();
    await migrate(db, 'template');
    return await db.dump();
  } finally {
    await db.close();
  }
}

let template: Promise<Blob> | undefined;

/**
 * A copy of a freshly migrated database, kept in the temporary folder: the test processes of a run
 * (and later runs) share it; whoever finds none makes it and puts it there in one rename.
 */
function migratedTemplate(): Promise<Blob> {
  template ??= (async () => {
    const file = join(tmpdir(), `anki-pglite-template-${templateKey()}.tar`);
    try {
      return new Blob([await readFile(file)]);
    } catch {
      const blob = await makeTemplate();
      const partial = `${file}.${process.pid}.partial`;
      await writeFile(partial, Buffer.from(await blob.arrayBuffer()));
      await rename(partial, file);
      // Copies made with earlier migrations are of no further use.
      const stale = (await readdir(tmpdir())).filter((name) => name.startsWith('anki-pglite-template-') && name.endsWith('.tar') && join(tmpdir(), name) !== file);
      await Promise.all(stale.map((name) => rm(join(tmpdir(), name), { force: true })));
      return blob;
    }
  })();
  return template;
}

/**
 * A new, migrated, in-memory PGlite database. A new one costs an initdb and every migration
 * (seconds of CPU each time); the tests start each from a copy of one, which takes a fraction of it.
 */
export async function migratedPglite(): Promise<PgliteDatabase> {
  const db = new PgliteDatabase({ from: await migratedTemplate() });
  await db.ready();
  return db;
}
