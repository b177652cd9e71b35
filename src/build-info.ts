import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What was built: written to dist/build-info.json by the build (scripts/copy-assets.js). */
export interface BuildInfo {
  version: string;
  commit: string;
}

/** The build's version and commit; `unknown` parts when the file is missing (running from source). */
export function readBuildInfo(dir: string = __dirname): BuildInfo {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, 'build-info.json'), 'utf8')) as Partial<BuildInfo>;
    return { version: typeof parsed.version === 'string' ? parsed.version : 'unknown', commit: typeof parsed.commit === 'string' ? parsed.commit : 'unknown' };
  } catch {
    return { version: 'unknown', commit: 'unknown' };
  }
}
