import { ConfigError } from '../errors';
import { IssuedToken, IssuedTokenSigner, IssuedTokenVerifier } from './issued-tokens';
import { joinSecretFor, type JoiningRole, type JoinSecrets } from './join-proof';
import { loadSigningKey, loadVerifyKeys, type VerifyKey } from './node-keys';
import { NodeTokenAuthority, OwnToken, type NodeTokenSource, type NodeTokenVerifier } from './node-tokens';
import type { NodeRole } from './permissions';
import { PopKeyPair } from './pop-key';

/** The part of the configuration that decides how node tokens are made and checked. */
export interface IdentitySettings {
  jwtSecret: string;
  joinSecret: string;
  joinSecretAn: string;
  joinSecretKi: string;
  nodeTokenMode: 'shared' | 'issued';
  nodeSigningKey: string;
  nodeTokenPublicKeys: string;
  nodeTokenExtraPublicKeys: string;
  nodeTokenTtlSec: number;
  clockToleranceSec: number;
}

/** What an An or a Ki needs to be admitted (issued mode). */
export interface JoinSetup {
  role: JoiningRole;
  secret: Buffer;
  verifier: IssuedTokenVerifier;
  token: IssuedToken;
  /** The key the join offers and the issued token must confirm. */
  pop: PopKeyPair;
}

/** What a principal (or standalone) needs to admit nodes (issued mode). */
export interface IssueSetup {
  signer: IssuedTokenSigner;
  /** Its own public key first, then the extra keys: what join replies announce. */
  announced: readonly VerifyKey[];
  joinSecrets: JoinSecrets;
}

/** How this node signs (or obtains) its token and verifies everyone else's. */
export interface NodeIdentitySetup {
  verifier: NodeTokenVerifier;
  ownToken: NodeTokenSource;
  join?: JoinSetup;
  issue?: IssueSetup;
  /** Issued mode: this process's own key; every message it seals is signed with it. */
  pop?: PopKeyPair;
}

const PINNED = 'security.nodeTokenPublicKeys (NODE_TOKEN_PUBLIC_KEYS)';

/**
 * Shared mode: one HS256 key derived from JWT_SECRET_KEY, every node signs its own token. Issued
 * mode: principals sign with NODE_SIGNING_KEY; Ans and Kis get their token by joining.
 */
export function setUpNodeIdentity(role: NodeRole, nodeId: string, s: IdentitySettings): NodeIdentitySetup {
  if (s.nodeTokenMode === 'shared') {
    const authority = new NodeTokenAuthority(s.jwtSecret, { ttlSec: s.nodeTokenTtlSec, clockToleranceSec: s.clockToleranceSec });
    return { verifier: authority, ownToken: new OwnToken(authority, { sub: nodeId, role }, s.nodeTokenTtlSec) };
  }
  const pinned = loadVerifyKeys(s.nodeTokenPublicKeys, PINNED);
  // Made per process start and never stored: a token it confirms dies with the process.
  const pop = new PopKeyPair();
  if (role === 'an' || role === 'ki') {
    const verifier = new IssuedTokenVerifier({ keys: pinned, pinned: pinned.length > 0, clockToleranceSec: s.clockToleranceSec });
    const token = new IssuedToken();
    return { verifier, ownToken: token, pop, join: { role, secret: joinSecretFor(role, s), verifier, token, pop } };
  }
  if (!s.nodeSigningKey.trim()) throw new ConfigError('invalid configuration: security.nodeSigningKey (NODE_SIGNING_KEY) is empty; a principal in issued mode signs node tokens with it (node dist/main.js keygen)');
  const signing = loadSigningKey(s.nodeSigningKey);
  const extras = loadVerifyKeys(s.nodeTokenExtraPublicKeys, 'security.nodeTokenExtraPublicKeys (NODE_TOKEN_EXTRA_PUBLIC_KEYS)');
  const announced = [signing.publicKey, ...extras.filter((k) => k.kid !== signing.kid)];
  if (pinned.length > 0 && !pinned.some((k) => k.kid === signing.kid)) {
    throw new ConfigError(`invalid configuration: ${PINNED} does not include the public key of NODE_SIGNING_KEY; this principal would refuse its own messages`);
  }
  const signer = new IssuedTokenSigner(signing, s.nodeTokenTtlSec);
  return {
    verifier: new IssuedTokenVerifier({ keys: pinned.length > 0 ? pinned : announced, pinned: true, clockToleranceSec: s.clockToleranceSec }),
    ownToken: new OwnToken(signer, { sub: nodeId, role, cnf: pop.jwk }, s.nodeTokenTtlSec),
    pop,
    issue: { signer, announced, joinSecrets: { an: joinSecretFor('an', s), ki: joinSecretFor('ki', s) } },
  };
}
