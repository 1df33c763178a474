/**
 * Every certificate of a capture, once: keyed by the SHA-256 of its DER bytes, parsed on first
 * sight (the same server chain repeats on every connection). Capped, so a capture full of
 * distinct certificates cannot grow without bound; beyond the cap chains still name their
 * certificates by fingerprint, without the details.
 */
import { createHash } from 'node:crypto';
import { parseCertificateDer } from './certificate.js';
import type { TlsCertificateFact } from './facts.js';

export const MAX_CERTIFICATES = 20000;

export class CertificateRegistry {
  private bySha = new Map<string, TlsCertificateFact>();
  dropped = 0;

  /** Registers one DER certificate and returns its fingerprint. */
  add(der: Buffer, frame: number): string {
    const sha256 = createHash('sha256').update(der).digest('hex');
    if (this.bySha.has(sha256)) return sha256;
    if (this.bySha.size >= MAX_CERTIFICATES) { this.dropped++; return sha256; }
    this.bySha.set(sha256, certificateFact(Buffer.from(der), sha256, frame));
    return sha256;
  }

  get(sha256: string): TlsCertificateFact | undefined {
    return this.bySha.get(sha256);
  }

  /** The certificates so far, by fingerprint (the registry's own map: it grows as certificates come). */
  index(): ReadonlyMap<string, TlsCertificateFact> {
    return this.bySha;
  }

  all(): TlsCertificateFact[] {
    return [...this.bySha.values()];
  }
}

function certificateFact(der: Buffer, sha256: string, frame: number): TlsCertificateFact {
  const info = parseCertificateDer(der);
  if (info.kind === 'malformed') {
    return {
      sha256, parseError: `byte ${info.offset}: ${info.reason}`, subject: '', issuer: '', subjectCommonName: null,
      sanDns: [], sanIp: [], sanEmail: [], validFrom: 0, validTo: 0, keyType: '', keyBits: null, curve: null,
      signatureAlgorithm: '', weakSignature: false, serialNumber: '', selfSigned: false, isCa: null, version: 0, der, firstFrame: frame,
    };
  }
  return {
    sha256, parseError: null, subject: info.subject, issuer: info.issuer, subjectCommonName: info.subjectCommonName ?? null,
    sanDns: info.sanDns, sanIp: info.sanIp, sanEmail: info.sanEmail, validFrom: info.validFrom, validTo: info.validTo,
    keyType: info.keyType, keyBits: info.keyBits ?? null, curve: info.curve ?? null,
    signatureAlgorithm: info.signatureAlgorithm, weakSignature: info.weakSignature, serialNumber: info.serialNumber,
    selfSigned: info.selfSigned, isCa: info.isCa ?? null, version: info.version, der, firstFrame: frame,
  };
}
