import { certificatesBySha, judgedHandshakes } from '../../proto/tls/facts.js';
import type { FindingDraft, Rule } from '../types.js';
import {
  capFrames, certDetails, certificateFrame, certName, connectionName, endpoint, flowList, ftpsLinks, groupBy, handshakeDetails,
  handshakeTime, MAX_ITEMS, subjectOf,
} from './tls-evidence.js';

/**
 * The server's own certificate (the leaf, first in the chain) names itself as issuer and its
 * signature verifies with its own key: nobody vouches for it, so clients either trust it by
 * hand or fail. One finding per certificate, naming every connection that showed it.
 */
export const TLS_CERT_SELF_SIGNED: Rule = {
  code: 'TLS_CERT_SELF_SIGNED',
  severity: 'medium',
  title: 'Server presents a self-signed certificate',
  explanation: 'The server\'s certificate is signed by its own key rather than by a certificate authority. Clients cannot tell it from an impostor\'s unless it was installed on them by hand, so they either refuse the connection or are configured to skip verification, which also lets a man in the middle through.',
  mitigation: 'Issue the server a certificate from a CA its clients trust (a public CA, or your internal CA deployed to the clients); if a self-signed certificate must stay, pin it explicitly on each client instead of disabling verification.',
  evaluate(facts) {
    const certs = certificatesBySha(facts.tls);
    const links = ftpsLinks(facts);
    const out: FindingDraft[] = [];
    const byLeaf = groupBy(judgedHandshakes(facts.tls), (h) => (h.certs.length > 0 && certs.get(h.certs[0])?.selfSigned ? h.certs[0] : null));
    for (const [sha, hs] of byLeaf) {
      const cert = certs.get(sha)!;
      const first = hs[0];
      const servers = [...new Set(hs.map((h) => endpoint(h.server, h.serverPort)))];
      out.push({
        frames: capFrames(hs.map((h) => certificateFrame(h))),
        firstTs: Math.min(...hs.map(handshakeTime)),
        subject: subjectOf(first, links.get(first.flow)),
        details: { certificate: certDetails(cert), servers, handshakes: hs.slice(0, MAX_ITEMS).map(handshakeDetails), count: hs.length },
        explanation: `${servers.length === 1 ? `The server ${servers[0]}` : `The servers ${servers.join(', ')}`} presented the self-signed certificate ${certName(cert)} `
          + `(subject and issuer are both "${cert.subject}", and it verifies with its own key) in ${connectionName(first, links.get(first.flow))}`
          + `${hs.length > 1 ? ` and ${hs.length - 1} more connection${hs.length > 2 ? 's' : ''} (${flowList(hs)})` : ''}, frame ${certificateFrame(first)}. `
          + 'No authority vouches for it: a client accepts it only if it was told to trust exactly this certificate, or if it does not verify certificates at all.',
      });
    }
    return out;
  },
};
