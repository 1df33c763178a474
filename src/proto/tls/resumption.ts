/**
 * Which connection issued a session ID or a ticket, so a later ClientHello offering it can be
 * tied to its origin (RFC 5246 §7.4.1.2 session IDs, RFC 5077 tickets, RFC 8446 §4.6.1 PSK
 * identities are tickets too). FTPS is the case that matters: a data connection's handshake
 * should offer the control connection's session. Bounded: the entries least recently issued or
 * offered go first, so a session still in use (an FTPS control connection's, offered by each data
 * connection) stays however many others come and go. Each entry costs ~100 bytes (a 64-digit
 * session ID, a map slot): at 65,536 per map the index was most of what still grew over a
 * multi-gigabyte capture (~14 MiB for both maps); OpenSSL's own server cache holds 20,480.
 */
import type { ResumptionSource } from './facts.js';

/** Entries per map (session IDs, tickets). */
export const RESUMPTION_ENTRIES = 1 << 14;

function put(map: Map<string, number>, key: string, flow: number): void {
  if (map.has(key)) return;
  map.set(key, flow);
  if (map.size > RESUMPTION_ENTRIES) map.delete(map.keys().next().value as string);
}

/** The flow that issued `key`, which moves to the back of the eviction order. */
function use(map: Map<string, number>, key: string): number | undefined {
  const f = map.get(key);
  if (f !== undefined) {
    map.delete(key);
    map.set(key, f);
  }
  return f;
}

export class ResumptionIndex {
  private sessions = new Map<string, number>();
  private tickets = new Map<string, number>();

  /** A TLS ≤ 1.2 ServerHello's session ID (the first connection to carry it issued it). */
  sessionIssued(sessionId: string, flow: number): void {
    if (sessionId) put(this.sessions, sessionId, flow);
  }

  ticketIssued(id: string, flow: number): void {
    put(this.tickets, id, flow);
  }

  /** What an offer resumes, checked in the order a server would: PSK, ticket, then session ID. */
  sourceOf(offer: { sessionId: string; ticketId: string | null; pskIds: string[] }, flow: number): ResumptionSource | null {
    for (const id of offer.pskIds) {
      const f = use(this.tickets, id);
      if (f !== undefined && f !== flow) return { flow: f, by: 'psk' };
    }
    if (offer.ticketId) {
      const f = use(this.tickets, offer.ticketId);
      if (f !== undefined && f !== flow) return { flow: f, by: 'ticket' };
    }
    if (offer.sessionId) {
      const f = use(this.sessions, offer.sessionId);
      if (f !== undefined && f !== flow) return { flow: f, by: 'session-id' };
    }
    return null;
  }
}
