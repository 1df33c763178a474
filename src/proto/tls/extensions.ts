/**
 * TLS extension blocks (RFC 8446 §4.2) and decoders for the extensions the analyzer reads.
 * Extensions are kept in wire order with their raw data; a malformed extension body is a
 * problem noted on the hello, never a reason to drop the whole hello.
 */
import { ByteReader, uintList } from './reader.js';

export interface Extension {
  type: number;
  data: Buffer;
  /** Offset of the extension's type field within the handshake body. */
  offset: number;
}

export interface ExtensionProblem {
  type: number;
  reason: string;
}

export const EXT = {
  SERVER_NAME: 0,
  STATUS_REQUEST: 5,
  SUPPORTED_GROUPS: 10,
  EC_POINT_FORMATS: 11,
  SIGNATURE_ALGORITHMS: 13,
  ALPN: 16,
  PADDING: 21,
  ENCRYPT_THEN_MAC: 22,
  EXTENDED_MASTER_SECRET: 23,
  SESSION_TICKET: 35,
  PRE_SHARED_KEY: 41,
  EARLY_DATA: 42,
  SUPPORTED_VERSIONS: 43,
  COOKIE: 44,
  PSK_KEY_EXCHANGE_MODES: 45,
  KEY_SHARE: 51,
  ENCRYPTED_CLIENT_HELLO: 0xfe0d,
  RENEGOTIATION_INFO: 0xff01,
} as const;

export interface ExtensionBlock {
  present: boolean;
  extensions: Extension[];
  /** Framing damage (lengths overrunning the message): the extensions before it are kept. */
  problem?: string;
}

/**
 * Reads `extensions<0..2^16-1>` to the end of the message. An absent block (no bytes left) is
 * allowed in TLS ≤ 1.2 (RFC 5246 §7.4.1.2). Broken framing does not throw the hello away:
 * like Wireshark, keep what parsed and note the problem, so version and suites stay visible.
 */
export function readExtensionBlock(r: ByteReader): ExtensionBlock {
  if (r.remaining === 0) return { present: false, extensions: [] };
  if (r.remaining === 1) {
    r.bytes(1);
    return { present: false, extensions: [], problem: 'one stray byte where the extensions length belongs' };
  }
  const declared = r.u16('extensions length');
  let problem: string | undefined;
  if (declared > r.remaining) problem = `extensions length ${declared} overruns the message (${r.remaining} bytes left)`;
  const block = r.sub(Math.min(declared, r.remaining), 'extensions');
  const extensions = readExtensionList(block);
  if (block.failure) problem ??= block.failure.reason;
  return { present: true, extensions, problem };
}

/** Reads extensions until the end of an already-delimited block; stops at the first overrun. */
export function readExtensionList(block: ByteReader): Extension[] {
  const extensions: Extension[] = [];
  while (!block.failure && block.remaining > 0) {
    const offset = block.offset;
    const type = block.u16('extension type');
    const data = block.vec16(`extension ${type}`);
    if (!block.failure) extensions.push({ type, data, offset });
  }
  return extensions;
}

/** Runs a decoder that must consume the whole extension body; problems are collected. */
export function decodeExt<T>(
  ext: Extension, problems: ExtensionProblem[], decode: (r: ByteReader) => T,
): T | undefined {
  const r = new ByteReader(ext.data);
  const value = decode(r);
  if (r.failure) {
    problems.push({ type: ext.type, reason: r.failure.reason });
    return undefined;
  }
  if (r.remaining !== 0) {
    problems.push({ type: ext.type, reason: `${r.remaining} trailing bytes` });
    return undefined;
  }
  return value;
}

function u16ListIn(r: ByteReader, what: string, lenBytes: 1 | 2): number[] {
  const body = lenBytes === 1 ? r.vec8(what) : r.vec16(what);
  const list = uintList(body, 2);
  if (!list) {
    r.fail(`${what} has odd length ${body.length}`);
    return [];
  }
  return list;
}

/** server_name (RFC 6066 §3): every host_name entry, in order. */
export function decodeServerNames(r: ByteReader): string[] {
  if (r.remaining === 0) return []; // a ServerHello acknowledges SNI with an empty body
  const list = r.sub(r.u16('server_name_list length'), 'server_name_list');
  const names: string[] = [];
  while (!list.failure && list.remaining > 0) {
    const nameType = list.u8('name_type');
    const name = list.vec16('host_name');
    if (nameType === 0 && !list.failure) names.push(name.toString('latin1'));
  }
  if (list.failure) r.failure = list.failure;
  return names;
}

/** ALPN (RFC 7301 §3.1). Protocol names are bytes; latin1 keeps every byte as one char. */
export function decodeAlpn(r: ByteReader): string[] {
  const list = r.sub(r.u16('protocol_name_list length'), 'protocol_name_list');
  const names: string[] = [];
  while (!list.failure && list.remaining > 0) {
    const name = list.vec8('protocol_name');
    if (!list.failure) names.push(name.toString('latin1'));
  }
  if (list.failure) r.failure = list.failure;
  return names;
}

export function decodeU16Vector16(r: ByteReader): number[] {
  return u16ListIn(r, 'list', 2);
}

export function decodeU16Vector8(r: ByteReader): number[] {
  return u16ListIn(r, 'list', 1);
}

export function decodeU8Vector8(r: ByteReader): number[] {
  return [...r.vec8('list')];
}

export interface PskIdentity {
  identity: Buffer;
  obfuscatedTicketAge: number;
}

/** ClientHello pre_shared_key (RFC 8446 §4.2.11). */
export function decodeOfferedPsks(r: ByteReader): { identities: PskIdentity[]; binderLengths: number[] } {
  const ids = r.sub(r.u16('identities length'), 'identities');
  const identities: PskIdentity[] = [];
  while (!ids.failure && ids.remaining > 0) {
    const identity = ids.vec16('identity');
    const obfuscatedTicketAge = ids.u32('obfuscated_ticket_age');
    if (!ids.failure) identities.push({ identity, obfuscatedTicketAge });
  }
  if (ids.failure) r.failure = ids.failure;
  const binders = r.sub(r.u16('binders length'), 'binders');
  const binderLengths: number[] = [];
  while (!binders.failure && binders.remaining > 0) binderLengths.push(binders.vec8('binder').length);
  if (binders.failure && !r.failure) r.failure = binders.failure;
  return { identities, binderLengths };
}

/** ClientHello key_share (RFC 8446 §4.2.8): the offered groups, in order. */
export function decodeClientKeyShare(r: ByteReader): number[] {
  const list = r.sub(r.u16('client_shares length'), 'client_shares');
  const groups: number[] = [];
  while (!list.failure && list.remaining > 0) {
    const group = list.u16('group');
    list.vec16('key_exchange');
    if (!list.failure) groups.push(group);
  }
  if (list.failure) r.failure = list.failure;
  return groups;
}

/** ServerHello key_share: one entry; a HelloRetryRequest carries only selected_group. */
export function decodeServerKeyShare(r: ByteReader, helloRetryRequest: boolean): number {
  const group = r.u16('group');
  if (!helloRetryRequest) r.vec16('key_exchange');
  return group;
}
