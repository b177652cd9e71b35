import { randomBytes, randomUUID } from 'node:crypto';
import { EnvelopeCodec, type EnvelopeOptions } from '../../../src/security/envelope';
import { parseKeyRing, type KeyRing } from '../../../src/security/key-ring';
import { NodeTokenAuthority, OwnToken } from '../../../src/security/node-tokens';
import type { NodeRole } from '../../../src/security/permissions';
import { ReplayGuard } from '../../../src/security/replay-guard';
import type { MessageOf } from '../../../src/protocol/messages';

export const JWT_SECRET = 'unit-test-jwt-secret-0123456789abcdef-0123456789';
export const OTHER_JWT_SECRET = 'another-jwt-secret-that-nobody-shares-0123456789';

/** A fresh base64 master key of 32 random bytes. */
export const newKey = (): string => randomBytes(32).toString('base64');

export const KEY_1 = newKey();
export const KEY_2 = newKey();

export interface CodecSetup {
  nodeId?: string;
  role?: NodeRole;
  /** `sub` of the token this node carries; its node id when absent. */
  tokenSub?: string;
  keys?: KeyRing | string;
  jwtSecret?: string;
  replayWindowMs?: number;
  maxMessageBytes?: number;
  now?: () => number;
  ownToken?: OwnToken;
}

/** One node's codec with its own replay guard; `authority` verifies tokens with the shared secret. */
export function makeCodec(setup: CodecSetup = {}): { codec: EnvelopeCodec; authority: NodeTokenAuthority; options: EnvelopeOptions } {
  const nodeId = setup.nodeId ?? 'an-1';
  const role = setup.role ?? 'an';
  const replayWindowMs = setup.replayWindowMs ?? 60_000;
  const authority = new NodeTokenAuthority(setup.jwtSecret ?? JWT_SECRET, { ttlSec: 3600, clockToleranceSec: 5 });
  const keys = typeof setup.keys === 'string' ? parseKeyRing(setup.keys) : (setup.keys ?? parseKeyRing(`k1:${KEY_1}`));
  const options: EnvelopeOptions = {
    nodeId,
    keys,
    ownToken: setup.ownToken ?? new OwnToken(authority, { sub: setup.tokenSub ?? nodeId, role }, 3600),
    tokens: authority,
    replay: new ReplayGuard(replayWindowMs, setup.now),
    replayWindowMs,
    maxMessageBytes: setup.maxMessageBytes ?? 1024 * 1024,
    ...(setup.now ? { now: setup.now } : {}),
  };
  return { codec: new EnvelopeCodec(options), authority, options };
}

export function pendingPayload(): MessageOf<'task.pending'> {
  return {
    v: 1,
    items: [{
      attempts: 0,
      task: {
        id: randomUUID(),
        type: 'echo',
        payload: { prompt: 'hello', n: [1, 2, 3] },
        priority: 5,
        requirements: { gpus: 0, gpuMemoryMiB: 0, labels: [] },
        timeoutMs: 60_000,
        maxAttempts: 3,
        owner: 'alice',
        createdAtMs: 1_700_000_000_000,
      },
    }],
  };
}

export function heartbeatPayload(id = 'an-1', role: NodeRole = 'an'): MessageOf<'node.heartbeat'> {
  return {
    v: 1, id, role, group: 'g1', status: 'alive', startedAtMs: 1_700_000_000_000, version: '0.1.0', load: 0,
    slots: { total: 4, busy: 1 }, gpus: [], types: ['echo'], labels: [],
  };
}
