/**
 * Cost of proof of possession per message: seal + open of the same messages by an An and a Ki in
 * shared mode, in issued mode without message signatures, and in issued mode with them (what runs).
 * `node --import tsx bench/envelope-pop.ts [messages]`. Single process, no broker: crypto and JSON only.
 */
import { randomUUID } from 'node:crypto';
import type { MessageOf, MessageType } from '../src/protocol/messages';
import { EnvelopeCodec, generateNodeKeyPair, parseKeyRing, ReplayGuard, setUpNodeIdentity, type NodeIdentitySetup } from '../src/security';
import type { IdentitySettings } from '../src/security/identity-setup';

const MESSAGES = Number(process.argv[2] ?? 20_000);
const WARMUP = 2_000;
const keys = parseKeyRing(`k1:${Buffer.alloc(32, 7).toString('base64')}`);
const settings: IdentitySettings = {
  jwtSecret: 'bench-jwt-secret-0123456789abcdef-0123456789', joinSecret: 'bench-join-secret-0123456789abcdef-0123', joinSecretAn: '', joinSecretKi: '',
  nodeTokenMode: 'issued', nodeSigningKey: generateNodeKeyPair().privatePem, nodeTokenPublicKeys: '', nodeTokenExtraPublicKeys: '', nodeTokenTtlSec: 3600, clockToleranceSec: 5,
};

function codec(nodeId: string, id: NodeIdentitySetup, signed: boolean): EnvelopeCodec {
  return new EnvelopeCodec({
    nodeId, keys, tokens: id.verifier, ownToken: id.ownToken, replay: new ReplayGuard(600_000), replayWindowMs: 600_000, maxMessageBytes: 1 << 22,
    ...(signed && id.pop ? { pop: id.pop } : {}),
  });
}

/** An An that seals, a Ki that opens: tokens issued by a principal and confirming each process's key. */
function pairOf(mode: 'shared' | 'issued', signed: boolean): { an: EnvelopeCodec; ki: EnvelopeCodec } {
  if (mode === 'shared') {
    const s = { ...settings, nodeTokenMode: 'shared' as const };
    return { an: codec('an-1', setUpNodeIdentity('an', 'an-1', s), false), ki: codec('ki-1', setUpNodeIdentity('ki', 'ki-1', s), false) };
  }
  const principal = setUpNodeIdentity('principal', 'p1', settings);
  const admitted = (role: 'an' | 'ki', id: string) => {
    const node = setUpNodeIdentity(role, id, { ...settings, nodeSigningKey: '' });
    node.join!.verifier.adopt(principal.issue!.announced);
    node.join!.token.set(principal.issue!.signer.sign({ sub: id, role, inst: 'bench-instance-000001', cnf: node.pop!.jwk }), Date.now() + 3_600_000);
    return node;
  };
  return { an: codec('an-1', admitted('an', 'an-1'), signed), ki: codec('ki-1', admitted('ki', 'ki-1'), signed) };
}

function assignOf(bytes: number): MessageOf<'task.assign'> {
  return {
    v: 1, an: 'an-1',
    items: [{
      attempt: 1, gpus: [],
      task: {
        id: randomUUID(), type: 'echo', payload: { prompt: 'x'.repeat(bytes) }, priority: 5, requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] },
        timeoutMs: 60_000, maxAttempts: 3, owner: 'alice', createdAtMs: Date.now(),
      },
    }],
  };
}

function run(pair: { an: EnvelopeCodec; ki: EnvelopeCodec }, type: MessageType, payload: MessageOf<MessageType>, n: number): { sealUs: number; openUs: number } {
  const sealed = new Array(n);
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sealed[i] = pair.an.seal(type, payload);
  const sealNs = Number(process.hrtime.bigint() - t);
  t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) pair.ki.open(sealed[i]);
  const openNs = Number(process.hrtime.bigint() - t);
  return { sealUs: sealNs / n / 1000, openUs: openNs / n / 1000 };
}

const fmt = (x: number) => x.toFixed(1).padStart(7);
process.stdout.write(`envelope seal + open, ${MESSAGES} messages each, µs per message (node ${process.version})\n`);
process.stdout.write(`${'variant'.padEnd(28)}${'payload'.padStart(9)}${'seal'.padStart(8)}${'open'.padStart(8)}${'total'.padStart(8)}\n`);
for (const bytes of [64, 4096]) {
  for (const [name, mode, signed] of [['shared (HS256, no sig)', 'shared', false], ['issued, unsigned', 'issued', false], ['issued + pop (ES256 sig)', 'issued', true]] as const) {
    const pair = pairOf(mode, signed);
    const payload = assignOf(bytes);
    run(pair, 'task.assign', payload, WARMUP);
    const r = run(pair, 'task.assign', payload, MESSAGES);
    process.stdout.write(`${name.padEnd(28)}${`${bytes} B`.padStart(9)}${fmt(r.sealUs)} ${fmt(r.openUs)} ${fmt(r.sealUs + r.openUs)}\n`);
  }
}
