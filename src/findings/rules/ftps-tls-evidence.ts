/**
 * What the FTPS rules read of the TLS analyzer's handshakes: per flow index, what each
 * handshake offered and got. Read by shape from `facts.tls.stored` and `facts.tls.handshakes` (the fields of
 * `FtpsHandshakeView`; a handshake without a ClientHello is no view), so FTPS_SESSION_REUSE_MISSING
 * depends on these few fields only. Without TLS facts for a flow it relies on what the FTP
 * dialogue shows (the server's refusal text).
 */
import type { FactSet } from '../../analysis/context.js';

export interface FtpsHandshakeView {
  /** Flow index of the TCP connection the handshake ran on (control or data). */
  flow: number;
  clientHelloFrame: number;
  /** Session ID the ClientHello offered, lower-case hex, '' when empty. */
  clientSessionId: string;
  /** The ClientHello carried a non-empty session ticket (extension 35). */
  offeredTicket: boolean;
  /** The ClientHello carried pre_shared_key (extension 41, TLS 1.3). */
  offeredPsk: boolean;
  serverHelloFrame: number | null;
  /** Negotiated version from the ServerHello (supported_versions, else legacy_version), e.g. 0x0303, 0x0304; null without one. */
  version: number | null;
  /** Session ID the ServerHello carried, lower-case hex; null when no ServerHello was seen. */
  serverSessionId: string | null;
  /** The server resumed (abbreviated handshake, or PSK accepted); null when it cannot be told. */
  resumed: boolean | null;
}

function isView(x: unknown): x is FtpsHandshakeView {
  if (typeof x !== 'object' || x === null) return false;
  const v = x as Record<string, unknown>;
  return typeof v.flow === 'number' && typeof v.clientHelloFrame === 'number' && typeof v.clientSessionId === 'string'
    && typeof v.offeredTicket === 'boolean' && typeof v.offeredPsk === 'boolean'
    && (v.serverHelloFrame === null || typeof v.serverHelloFrame === 'number')
    && (v.version === null || typeof v.version === 'number')
    && (v.serverSessionId === null || typeof v.serverSessionId === 'string')
    && (v.resumed === null || typeof v.resumed === 'boolean');
}

/** Handshakes by flow index (the first per flow), from whatever the TLS analyzer recorded. */
export function ftpsHandshakes(facts: FactSet): Map<number, FtpsHandshakeView> {
  const out = new Map<number, FtpsHandshakeView>();
  // Those stored during the run first: they ended before the ones still held.
  const tls = facts.tls as unknown as { stored?: unknown; handshakes?: unknown };
  for (const list of [tls.stored, tls.handshakes]) {
    if (!Array.isArray(list)) continue;
    for (const h of list) if (isView(h) && !out.has(h.flow)) out.set(h.flow, h);
  }
  return out;
}

export type ReuseVerdict = { reused: false; reason: string; frames: number[] } | null;

/**
 * Did the data connection's handshake resume the control connection's TLS session? A verdict
 * only when the handshake says so. TLS 1.3 (RFC 8446 §2.2, §4.2.11) resumes only through
 * pre_shared_key; its legacy_session_id is random and means nothing. TLS ≤ 1.2 resumes by
 * session ID (RFC 5246 §7.4.1.2) or ticket (RFC 5077): nothing offered, another session offered
 * than the control connection's, or a full handshake all mean no reuse.
 */
export function reuseVerdict(control: FtpsHandshakeView | undefined, data: FtpsHandshakeView): ReuseVerdict {
  const frames = [data.clientHelloFrame, ...(data.serverHelloFrame !== null ? [data.serverHelloFrame] : [])];
  if (data.resumed === true) return null;
  const version = data.version ?? control?.version ?? null;
  if (version === 0x0304) {
    if (!data.offeredPsk) return { reused: false, reason: `its TLS 1.3 ClientHello (frame ${data.clientHelloFrame}) offered no pre_shared_key to resume the control connection's session`, frames };
    if (data.resumed === false) return { reused: false, reason: `the server did not accept the offered pre_shared_key (ServerHello in frame ${data.serverHelloFrame})`, frames };
    return null;
  }
  if (data.clientSessionId === '' && !data.offeredTicket && !data.offeredPsk) {
    return { reused: false, reason: `its ClientHello (frame ${data.clientHelloFrame}) offered no session ID, ticket or PSK to resume`, frames };
  }
  if (version !== null && control?.serverSessionId && data.clientSessionId !== '' && !data.offeredTicket
    && data.clientSessionId !== control.serverSessionId) {
    return { reused: false, reason: `its ClientHello (frame ${data.clientHelloFrame}) offered session ${data.clientSessionId.slice(0, 16)}…, not the control connection's ${control.serverSessionId.slice(0, 16)}…`, frames };
  }
  if (data.resumed === false) {
    return { reused: false, reason: `the server answered with a full handshake (ServerHello in frame ${data.serverHelloFrame}) instead of resuming`, frames };
  }
  return null;
}
