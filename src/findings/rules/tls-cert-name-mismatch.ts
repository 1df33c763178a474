import { nameMatches } from '../../proto/tls/certificate.js';
import type { TlsCertificateFact, TlsJudgedHandshake } from '../../proto/tls/facts.js';
import { type Rule, tallied } from '../types.js';
import {
  certDetails, certificateFrame, certName, connectionName, type FtpsLink, groupTally, handshakeDetails, handshakeTime, type Judged, subjectOf,
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

interface Named extends Judged {
  want: { name: string; source: string };
  leaf: TlsCertificateFact;
}

export const TLS_CERT_NAME_MISMATCH: Rule = tallied({
  code: 'TLS_CERT_NAME_MISMATCH',
  severity: 'medium',
  title: 'Server certificate does not cover the name the client asked for',
  explanation: 'The client asked for a server name that is not among the names in the server certificate, so clients that verify the name refuse the connection, and those that do not cannot tell the server from an impostor.',
  mitigation: 'Install a certificate whose subjectAltName lists every name clients use for this server (or a matching wildcard); on servers hosting several names, configure the certificate for each SNI name; otherwise point clients at a name the certificate covers.',
  tally: () => groupTally<Named>(
    ({ h, link }, certs) => {
      const leaf = h.certs.length > 0 ? certs.get(h.certs[0]) : undefined;
      if (!leaf || leaf.parseError) return null;
      const want = requestedName(h, link);
      if (!want) return null;
      if (nameMatches({ sanDns: leaf.sanDns, sanIp: leaf.sanIp, subjectCommonName: leaf.subjectCommonName ?? undefined }, want.name)) return null;
      return {
        key: `${h.certs[0]}|${want.name.toLowerCase()}`, entry: { h, link, want, leaf },
        frames: [certificateFrame(h), h.clientHelloFrame ?? h.firstFrame], ts: handshakeTime(h),
      };
    },
    (g) => {
      const { h: first, link, want, leaf } = g.first;
      const covers = leaf.sanDns.length > 0 || leaf.sanIp.length > 0
        ? [...leaf.sanDns, ...leaf.sanIp].slice(0, 10).join(', ')
        : leaf.subjectCommonName ? `${leaf.subjectCommonName} (subject CN; no subjectAltName)` : 'no names at all';
      return {
        frames: g.frames,
        firstTs: g.firstTs,
        subject: subjectOf(first, link),
        details: { requested: want.name, source: want.source, certificate: certDetails(leaf), handshakes: g.items.map((e) => handshakeDetails(e.h)), count: g.count },
        explanation: `In ${connectionName(first, link)} the client asked for "${want.name}" (${want.source}, frame ${first.clientHelloFrame ?? first.firstFrame}), `
          + `but the server's certificate ${certName(leaf)} (frame ${certificateFrame(first)}) covers ${covers}`
          + `${g.count > 1 ? `; ${g.count} connections (${g.flowList()})` : ''}. A client that checks the name refuses this server.`,
      };
    },
  ),
});
