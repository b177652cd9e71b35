export { parseKeyRing, derive, KeyRing, type AesKey } from './key-ring';
export { ReplayGuard } from './replay-guard';
export { NodeTokenAuthority, OwnToken, type NodeClaims } from './node-tokens';
export { ClientTokenVerifier, InvalidTokenError, mintClientToken, type Caller, type ClientTokenOptions } from './client-tokens';
export { EnvelopeCodec, type WireMessage, type OpenedMessage, type EnvelopeOptions } from './envelope';
export { maySend, rightsOf, SENDERS, CLIENT_ROLES, type NodeRole, type ClientRole, type ClientRights, type Scope } from './permissions';
