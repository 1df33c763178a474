import { weakCipherReasons, type WeakCipherReason } from '../../proto/tls/names.js';
import { type TlsJudgedHandshake, judgedHandshakes } from '../../proto/tls/facts.js';
import type { FindingDraft, Rule } from '../types.js';
import { capFrames, connectionName, endpoint, flowList, ftpsLinks, groupBy, handshakeDetails, handshakeTime, MAX_ITEMS, subjectOf } from './tls-evidence.js';

const WHY: Record<WeakCipherReason, string> = {
  null: 'NULL encryption: the data travels readable by anyone on the path',
  export: 'export-grade (40/56-bit) keys, breakable in hours (FREAK, Logjam)',
  rc4: 'RC4, whose keystream biases let repeated secrets be recovered (prohibited by RFC 7465)',
  des: 'single DES with a 56-bit key, brute-forced in a day',
  '3des': '3DES with a 64-bit block, open to Sweet32 collisions on long connections',
  anon: 'anonymous key exchange: the server is never authenticated, so a man in the middle goes unnoticed',
};

/** SSL 2.0 CIPHER-SPECs are all weak by today's standards; name the reason from the spec's name. */
function reasonsOf(h: TlsJudgedHandshake): WeakCipherReason[] {
  if (h.cipherSuite === null) return [];
  if (h.version === 0x0002) {
    const n = h.cipher ?? '';
    const r: WeakCipherReason[] = [];
    if (n.includes('EXPORT')) r.push('export');
    if (n.includes('RC4')) r.push('rc4');
    if (n.includes('DES_64')) r.push('des');
    if (n.includes('EDE3')) r.push('3des');
    return r;
  }
  return weakCipherReasons(h.cipherSuite);
}

/** The server chose a cipher suite that does not protect the data. One finding per server endpoint and suite. */
export const TLS_WEAK_CIPHER: Rule = {
  code: 'TLS_WEAK_CIPHER',
  severity: 'medium',
  title: 'Weak cipher suite negotiated',
  explanation: 'The server picked a cipher suite with no or breakable encryption (NULL, EXPORT, RC4, DES/3DES) or without server authentication (anonymous), so the connection\'s confidentiality or integrity cannot be relied on.',
  mitigation: 'Remove NULL, EXPORT, RC4, DES, 3DES and anonymous suites from the server\'s configuration and prefer AEAD suites (AES-GCM, ChaCha20-Poly1305) with ECDHE; update clients that offer nothing better.',
  evaluate(facts) {
    const links = ftpsLinks(facts);
    const weak = judgedHandshakes(facts.tls).filter((h) => h.serverHelloFrame !== null && reasonsOf(h).length > 0);
    const out: FindingDraft[] = [];
    for (const hs of groupBy(weak, (h) => `${h.server}|${h.serverPort}|${h.cipherSuite}`).values()) {
      const first = hs[0];
      const reasons = reasonsOf(first);
      out.push({
        frames: capFrames(hs.map((h) => h.serverHelloFrame!)),
        firstTs: Math.min(...hs.map(handshakeTime)),
        subject: subjectOf(first, links.get(first.flow)),
        details: { server: first.server, serverPort: first.serverPort, cipher: first.cipher, reasons, handshakes: hs.slice(0, MAX_ITEMS).map(handshakeDetails), count: hs.length },
        explanation: `The server ${endpoint(first.server, first.serverPort)} chose ${first.cipher} in ${connectionName(first, links.get(first.flow))} (frame ${first.serverHelloFrame})`
          + `${hs.length > 1 ? ` and ${hs.length - 1} more (${flowList(hs)})` : ''}: ${reasons.map((r) => WHY[r]).join('; ')}.`
          + ` The client offered ${first.offeredCipherCount} suites.`,
      });
    }
    return out;
  },
};
