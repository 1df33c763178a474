/**
 * What a handshake fact records from the two hellos: offers, choices and fingerprints, as plain
 * values (hex strings, numbers), so facts carry no buffers beyond the certificates.
 */
import type { TlsHandshakeFact } from './facts.js';
import { ja3, ja3s, ja4 } from './fingerprint.js';
import type { ClientHello, ServerHello } from './hello.js';
import { ticketId } from './keystore.js';
import { cipherSuiteLabel, isGrease, versionName } from './names.js';
import { SSL2_CIPHER_SPECS } from './cipher-suites.js';
import { flatString } from '../../decode/bytes.js';

export type ClientHelloFields = Pick<TlsHandshakeFact,
  'sslv2ClientHello' | 'clientVersion' | 'offeredVersions' | 'offeredCipherCount' | 'clientExtensions' | 'sni' | 'alpnOffered'
  | 'clientSessionId' | 'offeredTicket' | 'offeredPsk' | 'offeredTicketId' | 'pskIdentityIds' | 'ja3' | 'ja3String' | 'ja4'>;

export function clientHelloFields(h: ClientHello): ClientHelloFields {
  const fp = ja3(h);
  const ticket = h.sessionTicket && h.sessionTicket.length > 0 ? h.sessionTicket : null;
  return {
    sslv2ClientHello: h.sslv2,
    clientVersion: h.legacyVersion,
    offeredVersions: (h.supportedVersions ?? []).filter((v) => !isGrease(v)),
    offeredCipherCount: h.cipherSuites.length,
    clientExtensions: h.extensions.map((e) => e.type),
    sni: h.serverName ?? null,
    alpnOffered: h.alpn ?? [],
    clientSessionId: h.sessionId.toString('hex'),
    offeredTicket: ticket !== null,
    offeredPsk: h.preSharedKey !== undefined || h.extensions.some((e) => e.type === 41),
    offeredTicketId: ticket ? ticketId(ticket) : null,
    pskIdentityIds: (h.preSharedKey?.identities ?? []).map((i) => ticketId(i.identity)),
    ja3: fp.md5,
    ja3String: fp.string,
    ja4: flatString(ja4(h).ja4),
  };
}

export type ServerHelloFields = Pick<TlsHandshakeFact,
  'serverExtensions' | 'version' | 'versionName' | 'cipherSuite' | 'cipher' | 'alpn' | 'serverSessionId' | 'pskAccepted'
  | 'extendedMasterSecret' | 'ja3s' | 'ja3sString'>;

export function serverHelloFields(h: ServerHello): ServerHelloFields {
  const fp = ja3s(h);
  return {
    serverExtensions: h.extensions.map((e) => e.type),
    version: h.negotiatedVersion,
    versionName: versionName(h.negotiatedVersion),
    cipherSuite: h.cipherSuite,
    cipher: cipherSuiteLabel(h.cipherSuite),
    alpn: h.alpn ?? null,
    serverSessionId: h.sessionId.toString('hex'),
    pskAccepted: h.selectedIdentity !== undefined,
    extendedMasterSecret: h.extendedMasterSecret,
    ja3s: fp.md5,
    ja3sString: fp.string,
  };
}

/** SSL 2.0 CIPHER-SPEC name, or its hex. */
export function sslv2CipherLabel(spec: number): string {
  return SSL2_CIPHER_SPECS.get(spec) ?? `0x${spec.toString(16).padStart(6, '0')}`;
}

/** TLS 1.3 and its drafts: everything after the ServerHello is protected. */
export function isTls13(version: number | null): boolean {
  if (version === null) return false;
  return version === 0x0304 || (version & 0xff00) === 0x7f00 || (version & 0xff00) === 0x7e00 || (version & 0xff00) === 0xfb00;
}
