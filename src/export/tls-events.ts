/** Dated TLS events: each handshake with its outcome, and each alert. */
import { endpoint } from './text.js';
import type { FlowIndex } from './flows.js';
import type { TlsHandshakeView } from './tls-read.js';
import { onFlow, type TimelineEvent } from './event.js';

const FAILED = new Set(['failed', 'dropped']);

/** `sessionOfFlow`: FTP sessions by control and data flow, so FTPS handshakes belong to their session. */
export function tlsEvents(h: TlsHandshakeView, flows: FlowIndex, sessionOfFlow: Map<number, number>): TimelineEvent[] {
  const flow = flows.get(h.flow);
  const owner = h.flow !== null ? sessionOfFlow.get(h.flow) : undefined;
  const keys = [...(h.flow !== null ? [`flow:${h.flow}`] : []), ...(owner !== undefined ? [`session:${owner}`] : [])];
  const out: TimelineEvent[] = [];
  const path = `${endpoint(h.client, h.clientPort)} → ${endpoint(h.server, h.serverPort)}`;
  const facts = [h.version, h.cipher, h.sni ? `SNI ${h.sni}` : null, h.resumed ? 'resumed' : null].filter((x) => x !== null).join(', ');
  if (h.ts !== null) {
    out.push(onFlow({
      type: 'tls', ts: h.ts, kind: 'handshake', desc: 'TLS handshake start', frame: h.frame, keys, host: h.client, session: owner ?? null,
      outcome: h.state === 'completed' ? 'ok' : h.state !== null && FAILED.has(h.state) ? 'failed' : null,
      message: `TLS handshake ${path}${facts ? ` (${facts})` : ''}${h.state ? `: ${h.state}` : ''}${h.failure ? ` — ${h.failure}` : ''}`,
      data: { event: 'handshake', flow: h.flow, sni: h.sni, version: h.version, cipher: h.cipher, ja3: h.ja3, ja4: h.ja4, resumed: h.resumed, state: h.state, failure: h.failure, certs: h.certs },
    }, flow));
  }
  for (const a of h.alerts) {
    const ts = a.ts ?? h.ts;
    if (ts === null) continue;
    out.push(onFlow({
      type: 'tls', ts, kind: 'alert', desc: 'TLS alert', frame: a.frame, keys, host: h.client, session: owner ?? null,
      outcome: a.level === 'fatal' ? 'failed' : null,
      message: `TLS alert on ${path}${a.from ? ` from the ${a.from}` : ''}: ${[a.level, a.description].filter(Boolean).join(' ') || 'encrypted'}`,
      data: { event: 'alert', flow: h.flow, from: a.from, level: a.level, description: a.description },
    }, flow));
  }
  return out;
}
