import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBuildInfo } from '../../../src/build-info';

const ROOT = join(__dirname, '..', '..', '..');
const MAIN = join(ROOT, 'dist', 'main.js');

describe('build info', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'anki-build-info-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the version and commit the build recorded', () => {
    writeFileSync(join(dir, 'build-info.json'), JSON.stringify({ version: '1.2.3', commit: 'abc123' }));
    assert.deepEqual(readBuildInfo(dir), { version: '1.2.3', commit: 'abc123' });
  });

  it('says unknown, rather than failing, without a readable record', () => {
    assert.deepEqual(readBuildInfo(dir), { version: 'unknown', commit: 'unknown' });
    writeFileSync(join(dir, 'build-info.json'), '{"version": 7');
    assert.deepEqual(readBuildInfo(dir), { version: 'unknown', commit: 'unknown' });
  });

  it('node dist/main.js --version prints the version of package.json and the commit the build saw', () => {
    const out = execFileSync(process.execPath, [MAIN, '--version'], { encoding: 'utf8' });
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const built = readBuildInfo(join(ROOT, 'dist'));
    assert.match(built.commit, /^[0-9a-f]{40}$/, 'a checkout builds with its git commit');
    assert.equal(out.trim(), `an-ki ${version} (commit ${built.commit})`);
  });
});
