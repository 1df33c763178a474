import { weakCipherReasons, type WeakCipherReason } from '../../proto/tls/names.js';
import type { TlsJudgedHandshake } from '../../proto/tls/facts.js';
import { type Rule, tallied } from '../types.js';
import { connectionName, endpoint, groupTally, handshakeDetails, handshakeTime, subjectOf } from './tls-evidence.js';

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
export const TLS_WEAK_CIPHER: Rule = tallied({
  code: 'TLS_WEAK_CIPHER',
  severity: 'medium',
  title: 'Weak cipher suite negotiated',
  explanation: 'The server picked a cipher suite with no or breakable encryption (NULL, EXPORT, RC4, DES/3DES) or without server authentication (anonymous), so the connection\'s confidentiality or integrity cannot be relied on.',
  mitigation: 'Remove NULL, EXPORT, RC4, DES, 3DES and anonymous suites from the server\'s configuration and prefer AEAD suites (AES-GCM, ChaCha20-Poly1305) with ECDHE; update clients that offer nothing better.',
  tally: () => groupTally(
    ({ h, link }) => (h.serverHelloFrame === null || reasonsOf(h).length === 0 ? null
      : { key: `${h.server}|${h.serverPort}|${h.cipherSuite}`, entry: { h, link }, frames: [h.serverHelloFrame], ts: handshakeTime(h) }),
    (g) => {
      const { h: first, link } = g.first;
      const reasons = reasonsOf(first);
      return {
        frames: g.frames,
        firstTs: g.firstTs,
        subject: subjectOf(first, link),
        details: { server: first.server, serverPort: first.serverPort, cipher: first.cipher, reasons, handshakes: g.items.map((e) => handshakeDetails(e.h)), count: g.count },
        explanation: `The server ${endpoint(first.server, first.serverPort)} chose ${first.cipher} in ${connectionName(first, link)} (frame ${first.serverHelloFrame})`
          + `${g.count > 1 ? ` and ${g.count - 1} more (${g.flowList()})` : ''}: ${reasons.map((r) => WHY[r]).join('; ')}.`
          + ` The client offered ${first.offeredCipherCount} suites.`,
      };
    },
  ),
});
