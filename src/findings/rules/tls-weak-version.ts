import { judgedHandshakes } from '../../proto/tls/facts.js';
import { isWeakVersion } from '../../proto/tls/names.js';
import type { FindingDraft, Rule } from '../types.js';
import { capFrames, connectionName, endpoint, flowList, ftpsLinks, groupBy, handshakeDetails, handshakeTime, MAX_ITEMS, subjectOf } from './tls-evidence.js';

/** RFC 6176 (SSL 2.0), RFC 7568 (SSL 3.0) and RFC 8996 (TLS 1.0 and 1.1) deprecate them. */
const WHY: Record<string, string> = {
  'SSL 2.0': 'SSL 2.0 has been prohibited since 2011 (RFC 6176): its handshake can be tampered with and its ciphers are broken',
  'SSL 3.0': 'SSL 3.0 has been prohibited since 2015 (RFC 7568, POODLE)',
  'TLS 1.0': 'TLS 1.0 has been deprecated since 2021 (RFC 8996): it lacks modern ciphers and relies on MD5/SHA-1 in its handshake',
  'TLS 1.1': 'TLS 1.1 has been deprecated since 2021 (RFC 8996): it lacks AEAD ciphers and relies on MD5/SHA-1 in its handshake',
};

/** The server agreed to a deprecated protocol version. One finding per server endpoint and version. */
export const TLS_WEAK_VERSION: Rule = {
  code: 'TLS_WEAK_VERSION',
  severity: 'medium',
  title: 'Deprecated SSL/TLS version negotiated',
  explanation: 'The connection used SSL 3.0, TLS 1.0 or TLS 1.1 (or SSL 2.0), versions deprecated for known weaknesses; current clients and compliance rules (PCI DSS, NIST SP 800-52) refuse them.',
  mitigation: 'Enable TLS 1.2 and 1.3 on both ends and disable the older versions on the server; update clients that cannot offer TLS 1.2.',
  evaluate(facts) {
    const links = ftpsLinks(facts);
    const weak = judgedHandshakes(facts.tls).filter((h) => h.version !== null && h.serverHelloFrame !== null && isWeakVersion(h.version));
    const out: FindingDraft[] = [];
    for (const hs of groupBy(weak, (h) => `${h.server}|${h.serverPort}|${h.version}`).values()) {
      const first = hs[0];
      const offered = first.offeredVersions.length > 0 ? Math.max(...first.offeredVersions) : first.clientVersion;
      const clientMax = offered !== null && offered !== undefined ? ` The client offered up to 0x${offered.toString(16).padStart(4, '0')}${offered > (first.version ?? 0) ? ', so the server chose the old version' : ''}.` : '';
      out.push({
        frames: capFrames(hs.map((h) => h.serverHelloFrame!)),
        firstTs: Math.min(...hs.map(handshakeTime)),
        subject: subjectOf(first, links.get(first.flow)),
        details: { server: first.server, serverPort: first.serverPort, version: first.versionName, handshakes: hs.slice(0, MAX_ITEMS).map(handshakeDetails), count: hs.length },
        explanation: `The server ${endpoint(first.server, first.serverPort)} negotiated ${first.versionName} in ${connectionName(first, links.get(first.flow))} (ServerHello in frame ${first.serverHelloFrame})`
          + `${hs.length > 1 ? ` and ${hs.length - 1} more (${flowList(hs)})` : ''}. ${WHY[first.versionName ?? ''] ?? 'The version is deprecated'}.${clientMax}`,
      });
    }
    return out;
  },
};
