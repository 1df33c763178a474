/**
 * Shared by TLS_CERT_EXPIRED and TLS_CERT_NOT_YET_VALID: every certificate of every server chain
 * judged at the moment of its handshake (the capture's clock, never today's), one finding per
 * certificate naming the connections that showed it outside its validity.
 */
import type { FactSet } from '../../analysis/context.js';
import { certificatesBySha, type TlsCertificateFact, type TlsJudgedHandshake, judgedHandshakes } from '../../proto/tls/facts.js';
import type { FindingDraft } from '../types.js';
import {
  capFrames, certDetails, certificateFrame, certName, connectionName, flowList, ftpsLinks, handshakeDetails, handshakeTime, isoDate,
  MAX_ITEMS, subjectOf,
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

export function validityFindings(facts: FactSet, problem: ValidityProblem): FindingDraft[] {
  const certs = certificatesBySha(facts.tls);
  const links = ftpsLinks(facts);
  const hits = new Map<string, { cert: TlsCertificateFact; hs: TlsJudgedHandshake[] }>();
  for (const h of judgedHandshakes(facts.tls)) {
    const at = handshakeTime(h);
    for (const sha of new Set(h.certs)) {
      const c = certs.get(sha);
      if (!c || c.parseError) continue;
      const bad = problem === 'expired' ? at > c.validTo : at < c.validFrom;
      if (!bad) continue;
      const entry = hits.get(sha);
      if (entry) entry.hs.push(h);
      else hits.set(sha, { cert: c, hs: [h] });
    }
  }
  const out: FindingDraft[] = [];
  for (const { cert, hs } of hits.values()) {
    const first = hs[0];
    const at = handshakeTime(first);
    const when = problem === 'expired'
      ? `expired on ${isoDate(cert.validTo)}, ${days(at - cert.validTo)} before the handshake on ${isoDate(at)}`
      : `becomes valid only on ${isoDate(cert.validFrom)}, ${days(cert.validFrom - at)} after the handshake on ${isoDate(at)}`;
    out.push({
      frames: capFrames(hs.map((h) => certificateFrame(h))),
      firstTs: Math.min(...hs.map(handshakeTime)),
      subject: subjectOf(first, links.get(first.flow)),
      details: { certificate: certDetails(cert), judgedAt: isoDate(at), handshakes: hs.slice(0, MAX_ITEMS).map(handshakeDetails), count: hs.length },
      explanation: `In ${connectionName(first, links.get(first.flow))}, ${position(first, cert.sha256)}, ${certName(cert)} issued by "${cert.issuer}", ${when}`
        + ` (judged by the capture's clock, frame ${certificateFrame(first)})${hs.length > 1 ? `; ${hs.length} connections showed it (${flowList(hs)})` : ''}. `
        + (problem === 'expired'
          ? 'Clients that check validity refuse the connection.'
          : 'Clients that check validity refuse it; a certificate from the future usually means the server\'s or the client\'s clock is wrong, or the certificate was installed before its start date.'),
    });
  }
  return out;
}
