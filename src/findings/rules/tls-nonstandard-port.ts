import type { FtpsSessionLink } from '../../proto/ftp/facts.js';
import { type TlsJudgedHandshake, judgedHandshakes } from '../../proto/tls/facts.js';
import type { FindingDraft, Rule } from '../types.js';
import { capFrames, endpoint, flowList, ftpsLinks, groupBy, handshakeTime, MAX_ITEMS } from './tls-evidence.js';

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

function ports(hs: TlsJudgedHandshake[]): string {
  const list = [...new Set(hs.map((h) => h.serverPort))].sort((a, b) => a - b);
  if (list.length <= 6) return list.join(', ');
  return `${list.length} ports from ${list[0]} to ${list[list.length - 1]}`;
}

/**
 * TLS to a server port other than 443. Firewalls and proxies that allow (or inspect) TLS only on
 * 443 break these connections, which is worth knowing when one fails. Info only: many services
 * have their own TLS port. FTPS is reported once per session, not per data port: TLS on the
 * control port and on the passive/active data ports is how FTPS works, and the explanation
 * says what a firewall must allow for it.
 */
export const TLS_NONSTANDARD_PORT: Rule = {
  code: 'TLS_NONSTANDARD_PORT',
  severity: 'info',
  title: 'TLS on a port other than 443',
  explanation: 'TLS ran to a server port other than 443. Networks that allow or inspect TLS only on 443 (egress firewalls, TLS-inspecting proxies, some IPS rules) block or break such connections.',
  mitigation: 'Where a firewall or proxy sits on the path, allow TLS to this port explicitly (for FTPS: the control port and the whole passive range), or move the service to 443 if clients must cross networks that only pass 443.',
  evaluate(facts) {
    const links = ftpsLinks(facts);
    const out: FindingDraft[] = [];
    const plain: TlsJudgedHandshake[] = [];
    const ftps = new Map<FtpsSessionLink, TlsJudgedHandshake[]>();
    for (const h of judgedHandshakes(facts.tls)) {
      if (h.serverPort === 443) continue;
      const link = links.get(h.flow);
      if (link) {
        const list = ftps.get(link.session);
        if (list) list.push(h);
        else ftps.set(link.session, [h]);
      } else {
        plain.push(h);
      }
    }
    for (const hs of groupBy(plain, (h) => `${h.server}|${h.serverPort}`).values()) {
      const first = hs[0];
      const service = TLS_SERVICES[first.serverPort];
      const how = first.origin === 'starttls' ? ' (TLS started inside the plain-text conversation, STARTTLS-style)' : '';
      out.push({
        frames: capFrames(hs.map((h) => h.clientHelloFrame ?? h.firstFrame)),
        firstTs: Math.min(...hs.map(handshakeTime)),
        subject: { flow: first.flow, host: first.server },
        details: { server: first.server, serverPort: first.serverPort, service: service ?? null, flows: hs.slice(0, MAX_ITEMS).map((h) => h.flow), count: hs.length, sni: first.sni },
        explanation: `TLS ran to ${endpoint(first.server, first.serverPort)}${first.sni ? ` (SNI ${first.sni})` : ''}${how} in ${hs.length} connection${hs.length > 1 ? 's' : ''} (${flowList(hs)}), first ClientHello in frame ${first.clientHelloFrame ?? first.firstFrame}. `
          + (first.origin === 'starttls' && STARTTLS_SERVICES[first.serverPort]
            ? `That is how ${STARTTLS_SERVICES[first.serverPort]} upgrades to TLS on its own port, so it is expected; it matters only where a firewall or proxy strips STARTTLS or expects TLS on 443 alone.`
            : service ? `Port ${first.serverPort} is the registered port of ${service}, so this is expected for that service; it matters only where a firewall or proxy lets TLS through on 443 alone.`
              : `A firewall or proxy that passes or inspects TLS only on 443 will block or break it.`),
      });
    }
    // FTPS: one finding per server and control port, however many sessions and data ports.
    const byServer = groupBy([...ftps.keys()], (s) => `${s.server}|${s.serverPort}`);
    for (const sessionsOf of byServer.values()) {
      const s = sessionsOf[0];
      const hs = sessionsOf.flatMap((x) => ftps.get(x)!);
      const control = hs.filter((h) => links.get(h.flow)?.role === 'control');
      const data = hs.filter((h) => links.get(h.flow)?.role === 'data');
      const parts: string[] = [];
      if (control.length > 0) parts.push(`the control connection${control.length > 1 ? 's' : ''} on port ${s.serverPort} (${s.tls.mode === 'implicit' ? 'implicit FTPS' : `explicit FTPS after AUTH ${s.tls.auth ?? 'TLS'}`})`);
      if (data.length > 0) parts.push(`${data.length} data connection${data.length > 1 ? 's' : ''} to port${data.length > 1 ? 's' : ''} ${ports(data)}`);
      const first = hs[0];
      const who = sessionsOf.length === 1
        ? `FTPS session ${endpoint(s.client, s.clientPort)} → ${endpoint(s.server, s.serverPort)} (flow ${s.flow})`
        : `${sessionsOf.length} FTPS sessions to ${endpoint(s.server, s.serverPort)} (flows ${sessionsOf.slice(0, 8).map((x) => x.flow).join(', ')}${sessionsOf.length > 8 ? ', …' : ''})`;
      out.push({
        frames: capFrames(hs.map((h) => h.clientHelloFrame ?? h.firstFrame)),
        firstTs: Math.min(...hs.map(handshakeTime)),
        subject: { session: s.flow, flow: first.flow, host: s.server },
        details: {
          ftps: true, server: s.server, controlPort: s.serverPort, sessions: sessionsOf.slice(0, MAX_ITEMS).map((x) => x.flow),
          dataPorts: [...new Set(data.map((h) => h.serverPort))].slice(0, MAX_ITEMS), flows: hs.slice(0, MAX_ITEMS).map((h) => h.flow), count: hs.length,
        },
        explanation: `${who} ran TLS on ${parts.join(' and on ')}. `
          + 'That is how FTPS works, not a misconfiguration; but a firewall that passes TLS only on 443 blocks it, and since the control channel is encrypted no FTP helper can open the data ports on the fly: the control port and the whole passive range must be allowed explicitly.',
      });
    }
    return out;
  },
};
