/**
 * Client/server fingerprints: JA3 and JA3S (salesforce/ja3) and JA4 (FoxIO JA4 spec,
 * BSD-3-Clause; JA4S and the rest of JA4+ are under the FoxIO licence and are not implemented).
 */
import { createHash } from 'node:crypto';
import type { ClientHello, ServerHello } from './hello.js';
import { isGrease } from './names.js';

export interface Ja3 {
  string: string;
  md5: string;
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const sha12 = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 12);
const dec = (list: readonly number[]): string => list.join('-');
const noGrease = (list: readonly number[]): number[] => list.filter((v) => !isGrease(v));

/**
 * JA3: handshake client_version (not the record version), then ciphers, extension types,
 * supported groups and point formats, GREASE removed, decimal, "-" inside a field.
 */
export function ja3(hello: ClientHello): Ja3 {
  const s = [
    hello.legacyVersion,
    dec(noGrease(hello.cipherSuites)),
    dec(noGrease(hello.extensions.map((e) => e.type))),
    dec(noGrease(hello.supportedGroups ?? [])),
    dec(hello.ecPointFormats ?? []),
  ].join(',');
  return { string: s, md5: md5(s) };
}

/** JA3S: ServerHello version, chosen cipher, extension types in order (GREASE kept, as in ja3s.py). */
export function ja3s(hello: ServerHello): Ja3 {
  const s = [hello.legacyVersion, hello.cipherSuite, dec(hello.extensions.map((e) => e.type))].join(',');
  return { string: s, md5: md5(s) };
}

export interface Ja4 {
  /** JA4: sorted lists, SNI and ALPN left out of the extension hash. */
  ja4: string;
  /** JA4_r: the same with the lists in clear instead of hashed. */
  ja4_r: string;
  /** JA4_o: wire order, SNI and ALPN kept. */
  ja4_o: string;
  /** JA4_ro: wire order in clear. */
  ja4_ro: string;
}

const VERSION_CODES: Record<number, string> = {
  0x0304: '13', 0x0303: '12', 0x0302: '11', 0x0301: '10', 0x0300: 's3', 0x0002: 's2',
  0xfeff: 'd1', 0xfefd: 'd2', 0xfefc: 'd3',
};

const hex4 = (v: number): string => v.toString(16).padStart(4, '0');
const twoDigits = (n: number): string => String(Math.min(n, 99)).padStart(2, '0');
const isAlnum = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** First and last characters of the first ALPN value, or of its hex form when not alphanumeric. */
function alpnCode(hello: ClientHello): string {
  const first = hello.alpn?.[0];
  if (!first) return '00';
  const a = first.charCodeAt(0);
  const z = first.charCodeAt(first.length - 1);
  if (isAlnum(a) && isAlnum(z)) return first[0] + first[first.length - 1];
  const hex = Buffer.from(first, 'latin1').toString('hex');
  return hex[0] + hex[hex.length - 1];
}

/** JA4 for a ClientHello seen over TCP ('t'), QUIC ('q') or DTLS ('d'). */
export function ja4(hello: ClientHello, transport: 't' | 'q' | 'd' = 't'): Ja4 {
  const versions = noGrease(hello.supportedVersions ?? []);
  const version = versions.length > 0 ? Math.max(...versions) : hello.legacyVersion;
  const ciphers = noGrease(hello.cipherSuites);
  const extensions = noGrease(hello.extensions.map((e) => e.type));
  const hasSni = hello.extensions.some((e) => e.type === 0);
  const a = `${transport}${VERSION_CODES[version] ?? '00'}${hasSni ? 'd' : 'i'}` +
    `${twoDigits(ciphers.length)}${twoDigits(extensions.length)}${alpnCode(hello)}`;
  const sigalgs = noGrease(hello.signatureAlgorithms ?? []).map(hex4).join(',');
  const withSigalgs = (exts: string): string => (sigalgs ? `${exts}_${sigalgs}` : exts);

  const sortedCiphers = [...ciphers].sort((x, y) => x - y).map(hex4).join(',');
  const sortedExts = extensions.filter((t) => t !== 0x0000 && t !== 0x0010).sort((x, y) => x - y).map(hex4).join(',');
  const wireCiphers = ciphers.map(hex4).join(',');
  const wireExts = extensions.map(hex4).join(',');

  const b = (list: string): string => (list ? sha12(list) : '000000000000');
  const c = (exts: string): string => (exts ? sha12(withSigalgs(exts)) : '000000000000');
  return {
    ja4: `${a}_${b(sortedCiphers)}_${c(sortedExts)}`,
    ja4_r: `${a}_${sortedCiphers}_${withSigalgs(sortedExts)}`,
    ja4_o: `${a}_${b(wireCiphers)}_${c(wireExts)}`,
    ja4_ro: `${a}_${wireCiphers}_${withSigalgs(wireExts)}`,
  };
}
