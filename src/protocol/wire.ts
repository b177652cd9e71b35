/**
 * The wire frame: what the transport carries and the envelope seals and opens. It lives with the
 * protocol, which both depend on, so that the transport needs nothing of security/.
 */
/** A sealed message as it crosses the broker: clear routing metadata, encrypted body. */
export interface WireMessage {
  id: string;
  type: string;
  sender: string;
  timestampMs: number;
  kid: string;
  /** nonce | ciphertext | tag */
  body: Buffer;
  /**
   * The tasks a work message concerns, in clear and not authenticated: only so that a message
   * that is rejected (e.g. sealed with a key its receiver lacks) can still be traced to its tasks.
   */
  taskIds?: readonly string[];
  /**
   * Issued mode: ECDSA P-256 signature (r|s) over AAD | body by the key the sender's token confirms
   * (`cnf`). It signs the ciphertext, so it travels beside it (AMQP header `x-sig`).
   */
  sig?: Buffer;
}
