/**
 * Which connection issued a session ID or a ticket, so a later ClientHello offering it can be
 * tied to its origin (RFC 5246 §7.4.1.2 session IDs, RFC 5077 tickets, RFC 8446 §4.6.1 PSK
 * identities are tickets too). FTPS is the case that matters: a data connection's handshake
 * should offer the control connection's session. Bounded: the oldest entries go first.
 */
import type { ResumptionSource } from './facts.js';

const MAX_ENTRIES = 1 << 16;

function put(map: Map<string, number>, key: string, flow: number): void {
  if (map.has(key)) return;
  map.set(key, flow);
  if (map.size > MAX_ENTRIES) map.delete(map.keys().next().value as string);
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
      const f = this.tickets.get(id);
      if (f !== undefined && f !== flow) return { flow: f, by: 'psk' };
    }
    if (offer.ticketId) {
      const f = this.tickets.get(offer.ticketId);
      if (f !== undefined && f !== flow) return { flow: f, by: 'ticket' };
    }
    if (offer.sessionId) {
      const f = this.sessions.get(offer.sessionId);
      if (f !== undefined && f !== flow) return { flow: f, by: 'session-id' };
    }
    return null;
  }
}
