/**
 * Shared by TLS_CERT_EXPIRED and TLS_CERT_NOT_YET_VALID: every certificate of every server chain
 * judged at the moment of its handshake (the capture's clock, never today's), one finding per
 * certificate naming the connections that showed it outside its validity.
 */
import type { TlsCertificateFact, TlsJudgedHandshake } from '../../proto/tls/facts.js';
import type { Tally } from '../types.js';
import {
  certDetails, certificateFrame, certName, connectionName, groupTally, handshakeDetails, handshakeTime, isoDate, type Judged, type Placement, subjectOf,
} from './tls-evidence.js';

const DAY_US = 86400e6;

export type ValidityProblem = 'expired' | 'not-yet-valid';

function position(h: TlsJudgedHandshake, sha: string): string {
  const i = h.certs.indexOf(sha);
  if (i === 0) return 'the server\'s own certificate';
  return `certificate ${i + 1} of the chain the server sent`;
}

function days(us: number): string {
  const d = us / DAY_US;
  if (d < 1) return `${Math.max(1, Math.round(us / 3600e6))} hour(s)`;
  return `${Math.round(d)} day${Math.round(d) === 1 ? '' : 's'}`;
}

export function validityTally(problem: ValidityProblem): Tally {
  const certOf = new Map<string, TlsCertificateFact>();
  return groupTally(
    ({ h, link }, certs) => {
      const at = handshakeTime(h);
      const out: Array<Placement<Judged>> = [];
      let rank = 0;
      for (const sha of new Set(h.certs)) {
        rank++;
        const c = certs.get(sha);
        if (!c || c.parseError) continue;
        const bad = problem === 'expired' ? at > c.validTo : at < c.validFrom;
        if (!bad) continue;
        certOf.set(sha, c);
        out.push({ key: sha, entry: { h, link }, frames: [certificateFrame(h)], ts: at, rank });
      }
      return out;
    },
    (g) => {
      const { h: first, link } = g.first;
      const cert = certOf.get(g.key)!;
      const at = handshakeTime(first);
      const when = problem === 'expired'
        ? `expired on ${isoDate(cert.validTo)}, ${days(at - cert.validTo)} before the handshake on ${isoDate(at)}`
        : `becomes valid only on ${isoDate(cert.validFrom)}, ${days(cert.validFrom - at)} after the handshake on ${isoDate(at)}`;
      return {
        frames: g.frames,
        firstTs: g.firstTs,
        subject: subjectOf(first, link),
        details: { certificate: certDetails(cert), judgedAt: isoDate(at), handshakes: g.items.map((e) => handshakeDetails(e.h)), count: g.count },
        explanation: `In ${connectionName(first, link)}, ${position(first, cert.sha256)}, ${certName(cert)} issued by "${cert.issuer}", ${when}`
          + ` (judged by the capture's clock, frame ${certificateFrame(first)})${g.count > 1 ? `; ${g.count} connections showed it (${g.flowList()})` : ''}. `
          + (problem === 'expired'
            ? 'Clients that check validity refuse the connection.'
            : 'Clients that check validity refuse it; a certificate from the future usually means the server\'s or the client\'s clock is wrong, or the certificate was installed before its start date.'),
      };
    },
  );
}
