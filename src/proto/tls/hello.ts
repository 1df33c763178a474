/**
 * ClientHello and ServerHello bodies (RFC 5246 §7.4.1, RFC 8446 §4.1), including the
 * SSL 2.0-compatible CLIENT-HELLO (RFC 5246 Appendix E.2) and pre-RFC TLS 1.3 drafts.
 */
import {
  EXT, type Extension, type ExtensionProblem, type PskIdentity, decodeAlpn, decodeClientKeyShare, decodeExt,
  decodeOfferedPsks, decodeServerKeyShare, decodeServerNames, decodeU16Vector16, decodeU16Vector8,
  decodeU8Vector8, readExtensionBlock,
} from './extensions.js';
import { ByteReader, type Malformed, malformed } from './reader.js';

export interface ClientHello {
  kind: 'client_hello';
  /** Converted from an SSL 2.0-compatible CLIENT-HELLO: no extensions can be present. */
  sslv2: boolean;
  legacyVersion: number;
  random: Buffer;
  sessionId: Buffer;
  cipherSuites: number[];
  /** SSL 2.0 hellos only: every 3-byte CIPHER-SPEC, including the non-TLS ones. */
  sslv2CipherSpecs?: number[];
  compressionMethods: number[];
  /** Whether the extensions block exists at all (TLS ≤ 1.2 may omit it). */
  hasExtensionBlock: boolean;
  /** Every extension, in wire order, with its raw data. */
  extensions: Extension[];
  /** Decoded views; undefined when the extension is absent (or its body was malformed). */
  serverName?: string;
  serverNames?: string[];
  alpn?: string[];
  supportedVersions?: number[];
  supportedGroups?: number[];
  ecPointFormats?: number[];
  signatureAlgorithms?: number[];
  /** session_ticket (RFC 5077): the ticket offered for resumption; empty = asks for a new one. */
  sessionTicket?: Buffer;
  preSharedKey?: { identities: PskIdentity[]; binderLengths: number[] };
  pskKeyExchangeModes?: number[];
  keyShareGroups?: number[];
  earlyData: boolean;
  extendedMasterSecret: boolean;
  encryptThenMac: boolean;
  extensionProblems: ExtensionProblem[];
}

export interface ServerHello {
  kind: 'server_hello';
  /** RFC 8446 §4.1.3: a ServerHello whose random is SHA-256("HelloRetryRequest"). */
  helloRetryRequest: boolean;
  legacyVersion: number;
  random: Buffer;
  sessionId: Buffer;
  cipherSuite: number;
  compressionMethod: number;
  hasExtensionBlock: boolean;
  extensions: Extension[];
  /** supported_versions selected_version, when present. */
  supportedVersion?: number;
  /** supported_versions when present, else legacy_version (RFC 8446 §4.2.1). */
  negotiatedVersion: number;
  /** pre_shared_key selected_identity: the server accepted a PSK (TLS 1.3 resumption). */
  selectedIdentity?: number;
  /** key_share group (HelloRetryRequest: the group the server asks for). */
  keyShareGroup?: number;
  alpn?: string;
  /** RFC 8446 §4.1.3 downgrade protection sentinel found in the last 8 random bytes. */
  downgradeSentinel?: 'tls12' | 'tls11';
  extendedMasterSecret: boolean;
  encryptThenMac: boolean;
  /** Empty session_ticket extension: the server will send a NewSessionTicket (RFC 5077 §3.2). */
  sessionTicketAck: boolean;
  extensionProblems: ExtensionProblem[];
}

export const HELLO_RETRY_REQUEST_RANDOM = Buffer.from(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');
const DOWNGRADE_PREFIX = Buffer.from('444f574e475244', 'hex');

/** Problems with the extension block as a whole are listed with type -1. */
function noteBlockProblems(problems: ExtensionProblem[], blockProblem: string | undefined, trailing: number): void {
  if (blockProblem) problems.push({ type: -1, reason: blockProblem });
  if (trailing > 0) problems.push({ type: -1, reason: `${trailing} bytes after extensions` });
}

export function parseClientHello(body: Buffer): ClientHello | Malformed {
  const r = new ByteReader(body);
  const legacyVersion = r.u16('legacy_version');
  const random = r.bytes(32, 'random');
  const sessionId = r.vec8('legacy_session_id');
  const suites = r.vec16('cipher_suites');
  if (!r.failure && suites.length % 2 !== 0) r.fail('cipher_suites has odd length', r.pos - suites.length);
  const compression = r.vec8('legacy_compression_methods');
  if (r.failure) return r.failure;
  if (sessionId.length > 32) return malformed(34, `session id of ${sessionId.length} bytes (max 32)`);
  const cipherSuites: number[] = [];
  for (let i = 0; i + 1 < suites.length; i += 2) cipherSuites.push(suites.readUInt16BE(i));
  const block = readExtensionBlock(r);
  if (r.failure) return r.failure;
  const hello: ClientHello = {
    kind: 'client_hello', sslv2: false, legacyVersion, random, sessionId, cipherSuites,
    compressionMethods: [...compression], hasExtensionBlock: block.present, extensions: block.extensions,
    earlyData: false, extendedMasterSecret: false, encryptThenMac: false, extensionProblems: [],
  };
  noteBlockProblems(hello.extensionProblems, block.problem, r.remaining);
  decodeClientExtensions(hello);
  return hello;
}

function decodeClientExtensions(h: ClientHello): void {
  const p = h.extensionProblems;
  for (const ext of h.extensions) {
    switch (ext.type) {
      case EXT.SERVER_NAME: {
        const names = decodeExt(ext, p, decodeServerNames);
        if (names) { h.serverNames = names; h.serverName = names[0]; }
        break;
      }
      case EXT.ALPN: h.alpn = decodeExt(ext, p, decodeAlpn); break;
      case EXT.SUPPORTED_VERSIONS: h.supportedVersions = decodeExt(ext, p, decodeU16Vector8); break;
      case EXT.SUPPORTED_GROUPS: h.supportedGroups = decodeExt(ext, p, decodeU16Vector16); break;
      case EXT.EC_POINT_FORMATS: h.ecPointFormats = decodeExt(ext, p, decodeU8Vector8); break;
      case EXT.SIGNATURE_ALGORITHMS: h.signatureAlgorithms = decodeExt(ext, p, decodeU16Vector16); break;
      case EXT.SESSION_TICKET: h.sessionTicket = ext.data; break;
      case EXT.PRE_SHARED_KEY: h.preSharedKey = decodeExt(ext, p, decodeOfferedPsks); break;
      case EXT.PSK_KEY_EXCHANGE_MODES: h.pskKeyExchangeModes = decodeExt(ext, p, decodeU8Vector8); break;
      case EXT.KEY_SHARE: h.keyShareGroups = decodeExt(ext, p, decodeClientKeyShare); break;
      case EXT.EARLY_DATA: h.earlyData = true; break;
      case EXT.EXTENDED_MASTER_SECRET: h.extendedMasterSecret = true; break;
      case EXT.ENCRYPT_THEN_MAC: h.encryptThenMac = true; break;
    }
  }
}

/**
 * TLS 1.3 drafts before -22 sent ServerHello without legacy_session_id_echo and
 * legacy_compression_method (draft-ietf-tls-tls13-21 §4.1.3); so did Google's 0x7exx
 * experiments and the early drafts that still wrote 0x0304 itself into server_version (RFC 8446
 * servers always write 0x0303 there).
 */
function isEarlyDraft(version: number): boolean {
  return version === 0x0304 || (version >= 0x7f00 && version < 0x7f16) || (version & 0xff00) === 0x7e00;
}

export function parseServerHello(body: Buffer): ServerHello | Malformed {
  const version = body.length >= 2 ? body.readUInt16BE(0) : 0;
  const draftLayout = isEarlyDraft(version);
  const result = parseServerHelloAs(body, draftLayout);
  // Experiment code points did not all follow their draft's layout: try the other one.
  const experimental = version === 0x0304 || (version & 0xff00) === 0x7e00 || (version & 0xff00) === 0x7f00;
  if (result.kind === 'malformed' && experimental) {
    const other = parseServerHelloAs(body, !draftLayout);
    if (other.kind !== 'malformed') return other;
  }
  return result;
}

function parseServerHelloAs(body: Buffer, draftLayout: boolean): ServerHello | Malformed {
  const r = new ByteReader(body);
  const legacyVersion = r.u16('legacy_version');
  const random = r.bytes(32, 'random');
  const sessionId = draftLayout ? Buffer.alloc(0) : r.vec8('legacy_session_id_echo');
  const cipherSuite = r.u16('cipher_suite');
  const compressionMethod = draftLayout ? 0 : r.u8('legacy_compression_method');
  if (r.failure) return r.failure;
  const block = readExtensionBlock(r);
  if (r.failure) return r.failure;
  const hrr = random.equals(HELLO_RETRY_REQUEST_RANDOM);
  const sh: ServerHello = {
    kind: 'server_hello', helloRetryRequest: hrr, legacyVersion, random, sessionId, cipherSuite,
    compressionMethod, hasExtensionBlock: block.present, extensions: block.extensions,
    negotiatedVersion: legacyVersion, extendedMasterSecret: false, encryptThenMac: false,
    sessionTicketAck: false, extensionProblems: [],
  };
  noteBlockProblems(sh.extensionProblems, block.problem, r.remaining);
  const p = sh.extensionProblems;
  for (const ext of sh.extensions) {
    switch (ext.type) {
      case EXT.SUPPORTED_VERSIONS: sh.supportedVersion = decodeExt(ext, p, (x) => x.u16('selected_version')); break;
      case EXT.PRE_SHARED_KEY: sh.selectedIdentity = decodeExt(ext, p, (x) => x.u16('selected_identity')); break;
      case EXT.KEY_SHARE: sh.keyShareGroup = decodeExt(ext, p, (x) => decodeServerKeyShare(x, hrr)); break;
      case EXT.ALPN: {
        const list = decodeExt(ext, p, decodeAlpn);
        if (list && list.length === 1) sh.alpn = list[0];
        else if (list) p.push({ type: ext.type, reason: `ServerHello ALPN lists ${list.length} protocols` });
        break;
      }
      case EXT.EXTENDED_MASTER_SECRET: sh.extendedMasterSecret = true; break;
      case EXT.ENCRYPT_THEN_MAC: sh.encryptThenMac = true; break;
      case EXT.SESSION_TICKET: sh.sessionTicketAck = true; break;
    }
  }
  if (sh.supportedVersion !== undefined) sh.negotiatedVersion = sh.supportedVersion;
  const tail = random.subarray(24);
  if (!hrr && tail.subarray(0, 7).equals(DOWNGRADE_PREFIX)) {
    if (tail[7] === 0x01) sh.downgradeSentinel = 'tls12';
    else if (tail[7] === 0x00) sh.downgradeSentinel = 'tls11';
  }
  return sh;
}

/**
 * SSL 2.0-compatible CLIENT-HELLO (RFC 5246 E.2, RFC 6101 E.1). `message` starts at msg_type,
 * just after the 2-byte record header. TLS suites appear as 3-byte specs `00 XX YY`; the
 * challenge is right-aligned into the 32-byte random.
 */
export function parseSslv2ClientHello(message: Buffer): ClientHello | Malformed {
  const r = new ByteReader(message);
  const msgType = r.u8('msg_type');
  const legacyVersion = r.u16('version');
  const specLength = r.u16('cipher_spec_length');
  const sessionIdLength = r.u16('session_id_length');
  const challengeLength = r.u16('challenge_length');
  if (r.failure) return r.failure;
  if (msgType !== 1) return malformed(0, `SSLv2 message type ${msgType} is not CLIENT-HELLO`);
  if (specLength % 3 !== 0) return malformed(3, `cipher_spec_length ${specLength} is not a multiple of 3`);
  if (challengeLength < 16 || challengeLength > 32) return malformed(7, `challenge length ${challengeLength} outside 16..32`);
  if (sessionIdLength !== 0 && sessionIdLength !== 16) return malformed(5, `session id length ${sessionIdLength}`);
  const specs = r.bytes(specLength, 'cipher_specs');
  const sessionId = r.bytes(sessionIdLength, 'session_id');
  const challenge = r.bytes(challengeLength, 'challenge');
  if (r.failure) return r.failure;
  const sslv2CipherSpecs: number[] = [];
  const cipherSuites: number[] = [];
  for (let i = 0; i < specs.length; i += 3) {
    const spec = specs.readUIntBE(i, 3);
    sslv2CipherSpecs.push(spec);
    if (specs[i] === 0) cipherSuites.push(spec);
  }
  const random = Buffer.alloc(32);
  challenge.copy(random, 32 - challenge.length);
  return {
    kind: 'client_hello', sslv2: true, legacyVersion, random, sessionId, cipherSuites, sslv2CipherSpecs,
    compressionMethods: [0], hasExtensionBlock: false, extensions: [], earlyData: false,
    extendedMasterSecret: false, encryptThenMac: false, extensionProblems: [],
  };
}
