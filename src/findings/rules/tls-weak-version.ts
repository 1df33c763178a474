import { isWeakVersion } from '../../proto/tls/names.js';
import { type Rule, tallied } from '../types.js';
import { connectionName, endpoint, groupTally, handshakeDetails, handshakeTime, subjectOf } from './tls-evidence.js';

/** RFC 6176 (SSL 2.0), RFC 7568 (SSL 3.0) and RFC 8996 (TLS 1.0 and 1.1) deprecate them. */
const WHY: Record<string, string> = {
  'SSL 2.0': 'SSL 2.0 has been prohibited since 2011 (RFC 6176): its handshake can be tampered with and its ciphers are broken',
  'SSL 3.0': 'SSL 3.0 has been prohibited since 2015 (RFC 7568, POODLE)',
  'TLS 1.0': 'TLS 1.0 has been deprecated since 2021 (RFC 8996): it lacks modern ciphers and relies on MD5/SHA-1 in its handshake',
  'TLS 1.1': 'TLS 1.1 has been deprecated since 2021 (RFC 8996): it lacks AEAD ciphers and relies on MD5/SHA-1 in its handshake',
};

/** The server agreed to a deprecated protocol version. One finding per server endpoint and version. */
export const TLS_WEAK_VERSION: Rule = tallied({
  code: 'TLS_WEAK_VERSION',
  severity: 'medium',
  title: 'Deprecated SSL/TLS version negotiated',
  explanation: 'The connection used SSL 3.0, TLS 1.0 or TLS 1.1 (or SSL 2.0), versions deprecated for known weaknesses; current clients and compliance rules (PCI DSS, NIST SP 800-52) refuse them.',
  mitigation: 'Enable TLS 1.2 and 1.3 on both ends and disable the older versions on the server; update clients that cannot offer TLS 1.2.',
  tally: () => groupTally(
    ({ h, link }) => (h.version === null || h.serverHelloFrame === null || !isWeakVersion(h.version) ? null
      : { key: `${h.server}|${h.serverPort}|${h.version}`, entry: { h, link }, frames: [h.serverHelloFrame], ts: handshakeTime(h) }),
    (g) => {
      const { h: first, link } = g.first;
      const offered = first.offeredVersions.length > 0 ? Math.max(...first.offeredVersions) : first.clientVersion;
      const clientMax = offered !== null && offered !== undefined ? ` The client offered up to 0x${offered.toString(16).padStart(4, '0')}${offered > (first.version ?? 0) ? ', so the server chose the old version' : ''}.` : '';
      return {
        frames: g.frames,
        firstTs: g.firstTs,
        subject: subjectOf(first, link),
        details: { server: first.server, serverPort: first.serverPort, version: first.versionName, handshakes: g.items.map((e) => handshakeDetails(e.h)), count: g.count },
        explanation: `The server ${endpoint(first.server, first.serverPort)} negotiated ${first.versionName} in ${connectionName(first, link)} (ServerHello in frame ${first.serverHelloFrame})`
          + `${g.count > 1 ? ` and ${g.count - 1} more (${g.flowList()})` : ''}. ${WHY[first.versionName ?? ''] ?? 'The version is deprecated'}.${clientMax}`,
      };
    },
  ),
});
