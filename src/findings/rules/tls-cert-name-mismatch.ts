import { nameMatches } from '../../proto/tls/certificate.js';
import { certificatesBySha, type TlsJudgedHandshake, judgedHandshakes } from '../../proto/tls/facts.js';
import type { FindingDraft, Rule } from '../types.js';
import {
  capFrames, certDetails, certificateFrame, certName, connectionName, flowList, ftpsLinks, type FtpsLink, groupBy,
  handshakeDetails, handshakeTime, MAX_ITEMS, subjectOf,
} from './tls-evidence.js';

/**
 * The name the client asked for is not one the server's certificate vouches for (RFC 6125:
 * DNS names in the subjectAltName, the subject CN only when there are none; IP addresses
 * against iPAddress entries). The name is the SNI; for FTPS without SNI, the name the client
 * gave in an FTP HOST command (RFC 7151). An address a client merely dialled is not judged: the
 * capture cannot tell whether it typed that address or a name that resolved to it.
 */
function requestedName(h: TlsJudgedHandshake, link: FtpsLink | undefined): { name: string; source: string } | null {
  if (h.sni) return { name: h.sni, source: 'SNI' };
  if (link) {
    const host = link.session.host;
    if (host) return { name: host, source: 'FTP HOST command' };
  }
  return null;
}

export const TLS_CERT_NAME_MISMATCH: Rule = {
  code: 'TLS_CERT_NAME_MISMATCH',
  severity: 'medium',
  title: 'Server certificate does not cover the name the client asked for',
  explanation: 'The client asked for a server name that is not among the names in the server certificate, so clients that verify the name refuse the connection, and those that do not cannot tell the server from an impostor.',
  mitigation: 'Install a certificate whose subjectAltName lists every name clients use for this server (or a matching wildcard); on servers hosting several names, configure the certificate for each SNI name; otherwise point clients at a name the certificate covers.',
  evaluate(facts) {
    const certs = certificatesBySha(facts.tls);
    const links = ftpsLinks(facts);
    const out: FindingDraft[] = [];
    const named = new Map<TlsJudgedHandshake, { name: string; source: string }>();
    for (const h of judgedHandshakes(facts.tls)) {
      const leaf = h.certs.length > 0 ? certs.get(h.certs[0]) : undefined;
      if (!leaf || leaf.parseError) continue;
      const want = requestedName(h, links.get(h.flow));
      if (!want) continue;
      if (nameMatches({ sanDns: leaf.sanDns, sanIp: leaf.sanIp, subjectCommonName: leaf.subjectCommonName ?? undefined }, want.name)) continue;
      named.set(h, want);
    }
    const groups = groupBy([...named.keys()], (h) => `${h.certs[0]}|${named.get(h)!.name.toLowerCase()}`);
    for (const hs of groups.values()) {
      const first = hs[0];
      const want = named.get(first)!;
      const leaf = certs.get(first.certs[0])!;
      const covers = leaf.sanDns.length > 0 || leaf.sanIp.length > 0
        ? [...leaf.sanDns, ...leaf.sanIp].slice(0, 10).join(', ')
        : leaf.subjectCommonName ? `${leaf.subjectCommonName} (subject CN; no subjectAltName)` : 'no names at all';
      out.push({
        frames: capFrames([...hs.map((h) => certificateFrame(h)), ...hs.map((h) => h.clientHelloFrame ?? h.firstFrame)]),
        firstTs: Math.min(...hs.map(handshakeTime)),
        subject: subjectOf(first, links.get(first.flow)),
        details: { requested: want.name, source: want.source, certificate: certDetails(leaf), handshakes: hs.slice(0, MAX_ITEMS).map(handshakeDetails), count: hs.length },
        explanation: `In ${connectionName(first, links.get(first.flow))} the client asked for "${want.name}" (${want.source}, frame ${first.clientHelloFrame ?? first.firstFrame}), `
          + `but the server's certificate ${certName(leaf)} (frame ${certificateFrame(first)}) covers ${covers}`
          + `${hs.length > 1 ? `; ${hs.length} connections (${flowList(hs)})` : ''}. A client that checks the name refuses this server.`,
      });
    }
    return out;
  },
};
