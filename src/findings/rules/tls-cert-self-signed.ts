import type { TlsCertificateFact } from '../../proto/tls/facts.js';
import { type Rule, tallied } from '../types.js';
import {
  certDetails, certificateFrame, certName, connectionName, endpoint, groupTally, handshakeDetails, handshakeTime, subjectOf,
} from './tls-evidence.js';

/**
 * The server's own certificate (the leaf, first in the chain) names itself as issuer and its
 * signature verifies with its own key: nobody vouches for it, so clients either trust it by
 * hand or fail. One finding per certificate, naming every connection that showed it.
 */
export const TLS_CERT_SELF_SIGNED: Rule = tallied({
  code: 'TLS_CERT_SELF_SIGNED',
  severity: 'medium',
  title: 'Server presents a self-signed certificate',
  explanation: 'The server\'s certificate is signed by its own key rather than by a certificate authority. Clients cannot tell it from an impostor\'s unless it was installed on them by hand, so they either refuse the connection or are configured to skip verification, which also lets a man in the middle through.',
  mitigation: 'Issue the server a certificate from a CA its clients trust (a public CA, or your internal CA deployed to the clients); if a self-signed certificate must stay, pin it explicitly on each client instead of disabling verification.',
  tally() {
    /** Per certificate: the certificate, and each server endpoint that presented it with its lowest flow. */
    const seen = new Map<string, { cert: TlsCertificateFact; servers: Map<string, number> }>();
    return groupTally(
      ({ h, link }, certs) => {
        const cert = h.certs.length > 0 ? certs.get(h.certs[0]) : undefined;
        if (!cert?.selfSigned) return null;
        let s = seen.get(cert.sha256);
        if (!s) seen.set(cert.sha256, s = { cert, servers: new Map() });
        const server = endpoint(h.server, h.serverPort);
        const flow = s.servers.get(server);
        if (flow === undefined || h.flow < flow) s.servers.set(server, h.flow);
        return { key: cert.sha256, entry: { h, link }, frames: [certificateFrame(h)], ts: handshakeTime(h) };
      },
      (g) => {
        const { h: first, link } = g.first;
        const { cert, servers: at } = seen.get(first.certs[0])!;
        const servers = [...at].sort((a, b) => a[1] - b[1]).map(([server]) => server);
        return {
          frames: g.frames,
          firstTs: g.firstTs,
          subject: subjectOf(first, link),
          details: { certificate: certDetails(cert), servers, handshakes: g.items.map((e) => handshakeDetails(e.h)), count: g.count },
          explanation: `${servers.length === 1 ? `The server ${servers[0]}` : `The servers ${servers.join(', ')}`} presented the self-signed certificate ${certName(cert)} `
            + `(subject and issuer are both "${cert.subject}", and it verifies with its own key) in ${connectionName(first, link)}`
            + `${g.count > 1 ? ` and ${g.count - 1} more connection${g.count > 2 ? 's' : ''} (${g.flowList()})` : ''}, frame ${certificateFrame(first)}. `
            + 'No authority vouches for it: a client accepts it only if it was told to trust exactly this certificate, or if it does not verify certificates at all.',
        };
      },
    );
  },
});
