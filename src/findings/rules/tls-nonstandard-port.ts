import type { FtpsSessionLink } from '../../proto/ftp/facts.js';
import type { TlsJudgedHandshake } from '../../proto/tls/facts.js';
import { type FindingDraft, type Rule, tallied } from '../types.js';
import { endpoint, Groups, HandshakeGroup, handshakeTime, type Judged, judged, MAX_ITEMS } from './tls-evidence.js';

/** IANA-registered ports of TLS services, named so the explanation can say the port is expected for them. */
const TLS_SERVICES: Record<number, string> = {
  465: 'SMTP submission over TLS (submissions)', 563: 'NNTP over TLS', 636: 'LDAP over TLS (ldaps)', 853: 'DNS over TLS',
  989: 'FTPS data (ftps-data)', 990: 'implicit FTPS (ftps)', 992: 'Telnet over TLS', 993: 'IMAP over TLS (imaps)',
  995: 'POP3 over TLS (pop3s)', 3269: 'LDAP global catalog over TLS', 5061: 'SIP over TLS (sips)', 5671: 'AMQP over TLS',
  6697: 'IRC over TLS', 8883: 'MQTT over TLS', 5986: 'WS-Management over HTTPS',
};

/** Plain-text protocols that switch to TLS on their own port (STARTTLS and kin). */
const STARTTLS_SERVICES: Record<number, string> = {
  21: 'FTP', 25: 'SMTP', 110: 'POP3', 119: 'NNTP', 143: 'IMAP', 389: 'LDAP', 587: 'SMTP submission', 3306: 'MySQL',
  3389: 'RDP', 5222: 'XMPP', 5269: 'XMPP server-to-server', 5432: 'PostgreSQL', 6667: 'IRC',
};

function ports(set: ReadonlySet<number>): string {
  const list = [...set].sort((a, b) => a - b);
  if (list.length <= 6) return list.join(', ');
  return `${list.length} ports from ${list[0]} to ${list[list.length - 1]}`;
}

/** One FTPS session's TLS connections (other than to 443), as the server's finding lists them. */
interface SessionPart {
  link: FtpsSessionLink;
  /** Its lowest handshake flow: sessions are listed in that order. */
  firstFlow: number;
  /** Its handshakes' flows, in flow order (the first MAX_ITEMS). */
  flows: number[];
  /** Its data connections' server ports, distinct, in flow order (the first MAX_ITEMS). */
  dataPorts: number[];
}

/**
 * Sessions kept per server at most. Fewer are needed unless a data port first seen late must
 * keep its place in the finding's list behind hundreds of sessions that share their ports.
 */
const MAX_SESSIONS_KEPT = 1000;

/**
 * One finding's worth of FTPS sessions to a server and control port: every handshake counted
 * and framed (a HandshakeGroup), and the sessions in order of their first handshake, as many as
 * the finding names (sessions, flows and data ports, MAX_ITEMS of each).
 */
class FtpsServer {
  readonly all = new HandshakeGroup('');
  sessions: SessionPart[] = [];
  sessionCount = 0;
  control = 0;
  data = 0;
  readonly dataPortSet = new Set<number>();

  add(session: FtpsSessionLink, hs: Judged[]): void {
    const part: SessionPart = { link: session, firstFlow: hs[0].h.flow, flows: [], dataPorts: [] };
    for (const e of hs) {
      const h = e.h;
      this.all.add(e, [h.clientHelloFrame ?? h.firstFrame], handshakeTime(h), 0);
      if (part.flows.length < MAX_ITEMS) part.flows.push(h.flow);
      if (e.link?.role === 'control') this.control++;
      else if (e.link?.role === 'data') {
        this.data++;
        this.dataPortSet.add(h.serverPort);
        if (part.dataPorts.length < MAX_ITEMS && !part.dataPorts.includes(h.serverPort)) part.dataPorts.push(h.serverPort);
      }
    }
    this.sessionCount++;
    let i = this.sessions.length;
    while (i > 0 && this.sessions[i - 1].firstFlow > part.firstFlow) i--;
    this.sessions.splice(i, 0, part);
    this.trim();
  }

  /**
   * Drops the sessions after the first ones that already show all the finding lists: MAX_ITEMS
   * sessions, flows and data ports, or every data port seen (those after add none first).
   */
  private trim(): void {
    let flows = 0;
    const ports = new Set<number>();
    for (let i = 0; i < this.sessions.length; i++) {
      const s = this.sessions[i];
      flows += s.flows.length;
      for (const p of s.dataPorts) ports.add(p);
      const portsShown = ports.size >= MAX_ITEMS || ports.size === this.dataPortSet.size;
      if ((i + 1 >= MAX_ITEMS && flows >= MAX_ITEMS && portsShown) || i + 1 >= MAX_SESSIONS_KEPT) {
        this.sessions.length = i + 1;
        return;
      }
    }
  }

  draft(): FindingDraft {
    const s = this.sessions[0].link;
    const first = this.sessions[0].flows[0];
    const parts: string[] = [];
    if (this.control > 0) parts.push(`the control connection${this.control > 1 ? 's' : ''} on port ${s.serverPort} (${s.tls.mode === 'implicit' ? 'implicit FTPS' : `explicit FTPS after AUTH ${s.tls.auth ?? 'TLS'}`})`);
    if (this.data > 0) parts.push(`${this.data} data connection${this.data > 1 ? 's' : ''} to port${this.data > 1 ? 's' : ''} ${ports(this.dataPortSet)}`);
    const who = this.sessionCount === 1
      ? `FTPS session ${endpoint(s.client, s.clientPort)} → ${endpoint(s.server, s.serverPort)} (flow ${s.flow})`
      : `${this.sessionCount} FTPS sessions to ${endpoint(s.server, s.serverPort)} (flows ${this.sessions.slice(0, 8).map((x) => x.link.flow).join(', ')}${this.sessionCount > 8 ? ', …' : ''})`;
    return {
      frames: this.all.frames,
      firstTs: this.all.firstTs,
      subject: { session: s.flow, flow: first, host: s.server },
      details: {
        ftps: true, server: s.server, controlPort: s.serverPort, sessions: this.sessions.slice(0, MAX_ITEMS).map((x) => x.link.flow),
        dataPorts: [...new Set(this.sessions.flatMap((x) => x.dataPorts))].slice(0, MAX_ITEMS),
        flows: this.sessions.flatMap((x) => x.flows).slice(0, MAX_ITEMS), count: this.all.count,
      },
      explanation: `${who} ran TLS on ${parts.join(' and on ')}. `
        + 'That is how FTPS works, not a misconfiguration; but a firewall that passes TLS only on 443 blocks it, and since the control channel is encrypted no FTP helper can open the data ports on the fly: the control port and the whole passive range must be allowed explicitly.',
    };
  }
}

/**
 * TLS to a server port other than 443. Firewalls and proxies that allow (or inspect) TLS only on
 * 443 break these connections, which is worth knowing when one fails. Info only: many services
 * have their own TLS port. FTPS is reported once per session, not per data port: TLS on the
 * control port and on the passive/active data ports is how FTPS works, and the explanation
 * says what a firewall must allow for it.
 */
export const TLS_NONSTANDARD_PORT: Rule = tallied({
  code: 'TLS_NONSTANDARD_PORT',
  severity: 'info',
  title: 'TLS on a port other than 443',
  explanation: 'TLS ran to a server port other than 443. Networks that allow or inspect TLS only on 443 (egress firewalls, TLS-inspecting proxies, some IPS rules) block or break such connections.',
  mitigation: 'Where a firewall or proxy sits on the path, allow TLS to this port explicitly (for FTPS: the control port and the whole passive range), or move the service to 443 if clients must cross networks that only pass 443.',
  tally() {
    const plain = new Groups();
    // FTPS: one finding per server and control port, however many sessions and data ports.
    const servers = new Map<string, FtpsServer>();
    return {
      add(facts) {
        // A session's handshakes come in one part (its FTP part, or the end).
        const sessions = new Map<FtpsSessionLink, Judged[]>();
        for (const e of judged(facts)) {
          const h = e.h;
          if (h.serverPort === 443) continue;
          if (e.link) {
            const list = sessions.get(e.link.session);
            if (list) list.push(e);
            else sessions.set(e.link.session, [e]);
          } else {
            plain.add(`${h.server}|${h.serverPort}`, e, [h.clientHelloFrame ?? h.firstFrame], handshakeTime(h));
          }
        }
        for (const [session, hs] of sessions) {
          const key = `${session.server}|${session.serverPort}`;
          let server = servers.get(key);
          if (!server) servers.set(key, server = new FtpsServer());
          server.add(session, hs);
        }
      },
      finish() {
        const out: FindingDraft[] = plain.ordered().map((g) => {
          const first: TlsJudgedHandshake = g.first.h;
          const service = TLS_SERVICES[first.serverPort];
          const how = first.origin === 'starttls' ? ' (TLS started inside the plain-text conversation, STARTTLS-style)' : '';
          return {
            frames: g.frames,
            firstTs: g.firstTs,
            subject: { flow: first.flow, host: first.server },
            details: { server: first.server, serverPort: first.serverPort, service: service ?? null, flows: g.items.map((e) => e.h.flow), count: g.count, sni: first.sni },
            explanation: `TLS ran to ${endpoint(first.server, first.serverPort)}${first.sni ? ` (SNI ${first.sni})` : ''}${how} in ${g.count} connection${g.count > 1 ? 's' : ''} (${g.flowList()}), first ClientHello in frame ${first.clientHelloFrame ?? first.firstFrame}. `
              + (first.origin === 'starttls' && STARTTLS_SERVICES[first.serverPort]
                ? `That is how ${STARTTLS_SERVICES[first.serverPort]} upgrades to TLS on its own port, so it is expected; it matters only where a firewall or proxy strips STARTTLS or expects TLS on 443 alone.`
                : service ? `Port ${first.serverPort} is the registered port of ${service}, so this is expected for that service; it matters only where a firewall or proxy lets TLS through on 443 alone.`
                  : `A firewall or proxy that passes or inspects TLS only on 443 will block or break it.`),
          };
        });
        const ftps = [...servers.values()].sort((a, b) => a.sessions[0].firstFlow - b.sessions[0].firstFlow);
        return [...out, ...ftps.map((server) => server.draft())];
      },
    };
  },
});
