import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROLES, configSchema } from '../../../src/config/schema';
import {
  REPO_ROOT,
  VALUES_FILES,
  copyArgs,
  dockerStages,
  isDockerIgnored,
  loadYamlMap,
  lookupPath,
  parseDockerfile,
  readRepoFile,
} from './deploy-files';

const IMAGES = ['principal', 'an', 'ki'] as const;
const dockerignore = readRepoFile('.dockerignore');

function image(role: (typeof IMAGES)[number]) {
  const source = readRepoFile(`Dockerfile.${role}`);
  const instructions = parseDockerfile(source);
  const stages = dockerStages(instructions);
  const runtime = stages.at(-1);
  assert.ok(runtime, `Dockerfile.${role} has no stage`);
  const last = (keyword: string) => runtime.body.filter((i) => i.keyword === keyword).at(-1);
  return { source, instructions, stages, runtime, last };
}

function execForm(args: string | undefined): string[] {
  assert.ok(args !== undefined && args.startsWith('['), `not exec form: ${args}`);
  const parsed: unknown = JSON.parse(args);
  assert.ok(Array.isArray(parsed) && parsed.every((x) => typeof x === 'string'));
  return parsed;
}

describe('images', () => {
  for (const role of IMAGES) {
    describe(`Dockerfile.${role}`, () => {
      it('builds in a stage with dev dependencies and ships a runtime stage without them', () => {
        const { stages, runtime } = image(role);
        assert.ok(stages.length >= 2, 'multi-stage');
        const build = stages.find((s) => s.name === 'build');
        assert.ok(build, 'a stage named build');
        const buildRuns = build.body.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
        assert.match(buildRuns, /\bnpm ci\b(?! --omit)/);
        assert.match(buildRuns, /\bnpm run build\b/);
        const runtimeRuns = runtime.body.filter((i) => i.keyword === 'RUN').map((i) => i.args);
        assert.ok(runtimeRuns.some((r) => /\bnpm ci --omit=dev\b/.test(r)));
        assert.ok(runtimeRuns.every((r) => !/\bnpm ci\b(?! --omit=dev)/.test(r) && !/npm run build/.test(r)));
      });

      it('starts from a small glibc image of the Node LTS line that CI tests, pinned by digest', () => {
        const { instructions, stages } = image(role);
        const args = new Map(
          instructions.filter((i) => i.keyword === 'ARG').map((i) => {
            const [name, value] = i.args.split('=');
            return [name ?? '', value ?? ''] as const;
          }),
        );
        const ciMajor = readRepoFile('.ci/node-lts-version').trim().split('.')[0];
        for (const stage of stages) {
          const from = stage.from.replace(/^\$\{(\w+)\}$/, (_, name: string) => args.get(name) ?? '');
          const m = /^node:(\d+)-(trixie|bookworm)-slim@sha256:[0-9a-f]{64}$/.exec(from);
          assert.ok(m, `a slim Debian Node image pinned by digest: ${stage.from} = ${from}`);
          assert.equal(m[1], ciMajor, 'the images run the Node line that .ci/run tests the suite on');
        }
      });

      it('labels the image with the OCI annotations, version and revision from build arguments', () => {
        const { runtime } = image(role);
        const labels = runtime.body.filter((i) => i.keyword === 'LABEL').map((i) => i.args).join(' ');
        for (const key of ['title', 'description', 'version', 'revision', 'licenses', 'base.name']) assert.match(labels, new RegExp(`org\\.opencontainers\\.image\\.${key.replace('.', '\\.')}=`), key);
        assert.match(labels, /image\.version="\$\{VERSION\}"/);
        assert.match(labels, /image\.revision="\$\{REVISION\}"/);
      });

      it('records the commit in the build, for --version', () => {
        const build = image(role).stages.find((s) => s.name === 'build');
        assert.ok(build?.body.some((i) => i.keyword === 'RUN' && /BUILD_COMMIT="\$\{REVISION\}" npm run build/.test(i.args)));
      });

      it('leaves the optional embedded database out of the runtime', () => {
        const runs = image(role).runtime.body.filter((i) => i.keyword === 'RUN').map((i) => i.args).join('\n');
        assert.match(runs, /npm ci --omit=dev --omit=optional/);
        const pkg = JSON.parse(readRepoFile('package.json')) as { dependencies: Record<string, string>; optionalDependencies?: Record<string, string> };
        assert.ok(pkg.optionalDependencies?.['@electric-sql/pglite'] && !pkg.dependencies['@electric-sql/pglite'], 'PGlite is an optional dependency');
      });

      it(`runs node dist/main.js ${role} in exec form under tini`, () => {
        const { last } = image(role);
        const full = execForm(last('CMD')?.args);
        // node, its own flags (V8 heap settings), then the script and the role.
        const cmd = [full[0] ?? '', ...full.slice(1).filter((a) => !a.startsWith('--'))];
        assert.deepEqual(cmd.slice(0, 2), ['node', 'dist/main.js']);
        assert.ok(full.slice(1, full.indexOf('dist/main.js')).every((a) => a.startsWith('--')), `only flags between node and the script: ${full.join(' ')}`);
        if (role === 'an' || role === 'ki') assert.ok(full.includes('--max-semi-space-size=2'), 'the An and Ki images keep a small young generation (memory target)');
        const named = cmd[2] ?? '';
        assert.ok((ROLES as readonly string[]).includes(named) || named === 'migrate', named);
        assert.equal(named, role);
        const entrypoint = execForm(last('ENTRYPOINT')?.args);
        assert.match(entrypoint[0] ?? '', /tini$/);
        assert.equal(entrypoint.at(-1), '--');
        assert.ok(image(role).runtime.body.some((i) => i.keyword === 'RUN' && /\btini\b/.test(i.args)), 'tini is installed');
      });

      it('runs as the non-root user the chart expects', () => {
        const { last } = image(role);
        const user = last('USER')?.args ?? 'root';
        assert.ok(!/^(root|0)(:|$)/.test(user), user);
        const runAsUser = lookupPath(loadYamlMap(VALUES_FILES.base), ['podSecurityContext', 'runAsUser']).value;
        assert.equal(user.split(':')[0], String(runAsUser));
      });

      it('exposes the ports of the config schema that the role serves', () => {
        const { runtime } = image(role);
        const exposed = runtime.body.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map((p) => Number(p.split('/')[0]));
        assert.ok(exposed.includes(configSchema.metrics.port.default));
        assert.equal(exposed.includes(configSchema.http.port.default), role === 'principal');
      });

      it('copies only files that exist and that .dockerignore lets into the context', () => {
        const { stages, instructions } = image(role);
        const stageNames = new Set(stages.map((s) => s.name).filter(Boolean));
        const copies = instructions.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD');
        assert.ok(copies.length > 0);
        for (const copy of copies) {
          const { flags, sources } = copyArgs(copy.args);
          const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
          if (from !== undefined) {
            assert.ok(stageNames.has(from), `COPY --from=${from} names a stage`);
            continue;
          }
          for (const src of sources) {
            assert.ok(existsSync(join(REPO_ROOT, src)), `${src} exists`);
            assert.ok(!isDockerIgnored(dockerignore, src), `${src} is in the build context`);
          }
        }
      });
    });
  }

  it('shares every layer up to the compiled code across the three images', () => {
    const shared = (role: (typeof IMAGES)[number]) => {
      const lines = image(role).instructions.map((i) => `${i.keyword} ${i.args}`);
      return lines.slice(0, lines.findIndex((l) => l.startsWith('COPY --from=build')) + 1);
    };
    assert.ok(shared('principal').length > 5);
    for (const role of ['an', 'ki'] as const) assert.deepEqual(shared(role), shared('principal'), `Dockerfile.${role} diverges before its role's own lines`);
  });

  it('documents in the Ki image how GPUs reach it', () => {
    const ki = readRepoFile('Dockerfile.ki');
    const comments = ki.split('\n').filter((l) => l.trim().startsWith('#')).join('\n');
    for (const term of ['nvidia.com/gpu', 'NVIDIA_VISIBLE_DEVICES', 'nvidia-smi', 'device plugin']) assert.ok(comments.includes(term), term);
    assert.match(ki, /NVIDIA_DRIVER_CAPABILITIES=compute,utility/);
  });

  it('keeps dependencies, build output and git history out of the build context', () => {
    for (const path of ['node_modules', 'node_modules/pg/package.json', 'dist', '.git', 'test/unit', 'helm/an-ki/values.yaml', 'data']) {
      assert.ok(isDockerIgnored(dockerignore, path), `${path} is ignored`);
    }
    for (const path of ['package.json', 'package-lock.json', 'src/config/schema.ts', 'config/default.json', 'tsconfig.build.json']) {
      assert.ok(!isDockerIgnored(dockerignore, path), `${path} is kept`);
    }
  });
});
