/**
 * Handshake layer: reassembles handshake messages from record fragments (a message may span
 * records and a record may hold several messages, RFC 8446 §5.1) and decodes the messages the
 * analyzer reads. Also the two tiny record bodies: alerts and ChangeCipherSpec.
 *
 * Only cleartext handshake records belong here: after a direction's ChangeCipherSpec (TLS ≤ 1.2)
 * the Finished record is encrypted, and in TLS 1.3 everything after ServerHello is.
 */
import { type Extension, readExtensionBlock, readExtensionList } from './extensions.js';
import { type ClientHello, type ServerHello, parseClientHello, parseServerHello } from './hello.js';
import { alertDescriptionName, alertLevelName, handshakeTypeName } from './names.js';
import { ByteReader, type Malformed, malformed } from './reader.js';
import { ownedCopy } from '../../decode/bytes.js';

const EMPTY_PENDING = Buffer.alloc(0);

export * from './hello.js';
export type { Extension, ExtensionProblem, PskIdentity } from './extensions.js';

export const HS = {
  HELLO_REQUEST: 0, CLIENT_HELLO: 1, SERVER_HELLO: 2, NEW_SESSION_TICKET: 4, END_OF_EARLY_DATA: 5,
  ENCRYPTED_EXTENSIONS: 8, CERTIFICATE: 11, SERVER_KEY_EXCHANGE: 12, CERTIFICATE_REQUEST: 13,
  SERVER_HELLO_DONE: 14, CERTIFICATE_VERIFY: 15, CLIENT_KEY_EXCHANGE: 16, FINISHED: 20,
  CERTIFICATE_STATUS: 22, KEY_UPDATE: 24,
} as const;

export interface HandshakeMessage {
  kind: 'handshake';
  msgType: number;
  body: Buffer;
  /** Stream offset of the message's first header byte (its records' headers not counted). */
  streamOffset: number;
}

/** Per-direction reassembly state. Create with newHandshakeAssembler(). */
export interface HandshakeAssembler {
  pending: Buffer;
  /** Stream offset of pending[0]. */
  pendingOffset: number;
  /** Upper bound on one message's length; beyond it the stream is treated as not TLS. */
  maxMessageLength: number;
  failed: boolean;
}

/** 256 KiB holds any real certificate chain; the cap keeps a garbage length from buffering forever. */
export function newHandshakeAssembler(maxMessageLength = 256 * 1024): HandshakeAssembler {
  return { pending: Buffer.alloc(0), pendingOffset: 0, maxMessageLength, failed: false };
}

/**
 * Adds one handshake record fragment. `streamOffset` is the stream offset of fragment[0]
 * (the record's offset + 5). Returns every message completed by it; after a malformed result
 * the assembler stays failed and returns nothing more.
 */
export function pushHandshake(
  state: HandshakeAssembler, fragment: Buffer, streamOffset: number,
): Array<HandshakeMessage | Malformed> {
  if (state.failed) return [];
  const pendingLength = state.pending.length;
  const buf = pendingLength === 0 ? fragment : Buffer.concat([state.pending, fragment]);
  // Offsets: bytes carried over from earlier records keep theirs; the rest count from this fragment.
  const offsetOf = (pos: number): number =>
    pos < pendingLength ? state.pendingOffset + pos : streamOffset + (pos - pendingLength);
  const out: Array<HandshakeMessage | Malformed> = [];
  let pos = 0;
  while (buf.length - pos >= 4) {
    const msgType = buf[pos];
    const length = buf.readUIntBE(pos + 1, 3);
    if (length > state.maxMessageLength) {
      out.push(malformed(offsetOf(pos), `${handshakeTypeName(msgType)} of ${length} bytes exceeds the ${state.maxMessageLength}-byte cap`));
      state.failed = true;
      state.pending = Buffer.alloc(0);
      return out;
    }
    if (buf.length - pos < 4 + length) break;
    // Copy: the caller's record buffer may be a view into a reused chunk.
    out.push({ kind: 'handshake', msgType, body: ownedCopy(buf.subarray(pos + 4, pos + 4 + length)), streamOffset: offsetOf(pos) });
    pos += 4 + length;
  }
  state.pendingOffset = offsetOf(pos);
  state.pending = pos === buf.length ? EMPTY_PENDING : ownedCopy(buf.subarray(pos));
  return out;
}

/** Bytes of an incomplete message still waiting for more records. */
export function pendingHandshakeBytes(state: HandshakeAssembler): number {
  return state.pending.length;
}

export interface CertificateEntry {
  der: Buffer;
  /** TLS 1.3 CertificateEntry extensions (status_request, SCT, …). */
  extensions?: Extension[];
}

export interface CertificateMessage {
  kind: 'certificate';
  tls13: boolean;
  /** TLS 1.3 certificate_request_context (empty from servers). */
  requestContext?: Buffer;
  /** Leaf first (RFC 5246 §7.4.2, RFC 8446 §4.4.2). */
  entries: CertificateEntry[];
}

/**
 * Certificate message. `tls13` picks the layout; left undefined, the layout whose length
 * fields agree with the body is used.
 */
export function parseCertificate(body: Buffer, tls13?: boolean): CertificateMessage | Malformed {
  const as13 = tls13 ?? (body.length >= 4 && body[0] < body.length &&
    body.length >= 1 + body[0] + 3 && body.readUIntBE(1 + body[0], 3) === body.length - 4 - body[0]);
  const r = new ByteReader(body);
  const requestContext = as13 ? r.vec8('certificate_request_context') : undefined;
  const list = r.sub(r.u24('certificate_list length'), 'certificate_list');
  const entries: CertificateEntry[] = [];
  while (!list.failure && list.remaining > 0) {
    const der = list.vec24('cert_data');
    if (as13) {
      const block = list.sub(list.u16('extensions length'), 'extensions');
      const extensions = readExtensionList(block);
      if (block.failure && !list.failure) list.failure = block.failure;
      if (!list.failure) entries.push({ der, extensions });
    } else if (!list.failure) {
      entries.push({ der });
    }
  }
  if (list.failure) return list.failure;
  if (r.failure) return r.failure;
  if (r.remaining > 0) return malformed(r.pos, `${r.remaining} bytes after certificate_list`);
  return { kind: 'certificate', tls13: as13, requestContext, entries };
}

export interface NewSessionTicket {
  kind: 'new_session_ticket';
  tls13: boolean;
  /** Seconds (RFC 5077 ticket_lifetime_hint / RFC 8446 ticket_lifetime). */
  lifetime: number;
  ticket: Buffer;
  ageAdd?: number;
  nonce?: Buffer;
  extensions?: Extension[];
}

/** RFC 5077 §3.3 (TLS 1.2) or RFC 8446 §4.6.1 (TLS 1.3); layout chosen like parseCertificate. */
export function parseNewSessionTicket(body: Buffer, tls13?: boolean): NewSessionTicket | Malformed {
  const as13 = tls13 ?? !(body.length >= 6 && body.readUInt16BE(4) === body.length - 6);
  const r = new ByteReader(body);
  const lifetime = r.u32('ticket_lifetime');
  if (!as13) {
    const ticket = r.vec16('ticket');
    if (r.failure) return r.failure;
    if (r.remaining > 0) return malformed(r.pos, `${r.remaining} bytes after ticket`);
    return { kind: 'new_session_ticket', tls13: false, lifetime, ticket };
  }
  const ageAdd = r.u32('ticket_age_add');
  const nonce = r.vec8('ticket_nonce');
  const ticket = r.vec16('ticket');
  if (r.failure) return r.failure;
  const block = readExtensionBlock(r);
  if (block.problem) return malformed(r.pos, block.problem);
  return { kind: 'new_session_ticket', tls13: true, lifetime, ticket, ageAdd, nonce, extensions: block.extensions };
}

export interface KeyUpdate {
  kind: 'key_update';
  /** update_requested: the peer must answer with its own KeyUpdate (RFC 8446 §4.6.3). */
  updateRequested: boolean;
}

export function parseKeyUpdate(body: Buffer): KeyUpdate | Malformed {
  if (body.length !== 1) return malformed(0, `KeyUpdate body of ${body.length} bytes`);
  if (body[0] > 1) return malformed(0, `KeyUpdate request_update ${body[0]}`);
  return { kind: 'key_update', updateRequested: body[0] === 1 };
}

export interface OtherHandshake {
  kind: 'other';
  msgType: number;
  name: string;
  body: Buffer;
}

export type HandshakeView = ClientHello | ServerHello | CertificateMessage | NewSessionTicket | KeyUpdate | OtherHandshake;

/** Decodes one reassembled message. `tls13` selects TLS 1.3 layouts where they differ. */
export function decodeHandshake(msg: HandshakeMessage, tls13?: boolean): HandshakeView | Malformed {
  const rebase = (m: Malformed): Malformed => malformed(msg.streamOffset + 4 + m.offset, m.reason);
  let view: HandshakeView | Malformed;
  switch (msg.msgType) {
    case HS.CLIENT_HELLO: view = parseClientHello(msg.body); break;
    case HS.SERVER_HELLO: view = parseServerHello(msg.body); break;
    case HS.CERTIFICATE: view = parseCertificate(msg.body, tls13); break;
    case HS.NEW_SESSION_TICKET: view = parseNewSessionTicket(msg.body, tls13); break;
    case HS.KEY_UPDATE: view = parseKeyUpdate(msg.body); break;
    default: return { kind: 'other', msgType: msg.msgType, name: handshakeTypeName(msg.msgType), body: msg.body };
  }
  return view.kind === 'malformed' ? rebase(view) : view;
}

export interface Alert {
  kind: 'alert';
  level: number;
  description: number;
  levelName: string;
  descriptionName: string;
}

/**
 * Cleartext alert record body: one or more 2-byte alerts (RFC 5246 §7.2). An encrypted alert
 * (after ChangeCipherSpec) is not decodable here.
 */
export function parseAlerts(fragment: Buffer): Alert[] | Malformed {
  if (fragment.length === 0 || fragment.length % 2 !== 0) {
    return malformed(0, `alert record of ${fragment.length} bytes`);
  }
  const alerts: Alert[] = [];
  for (let i = 0; i < fragment.length; i += 2) {
    const level = fragment[i];
    const description = fragment[i + 1];
    alerts.push({
      kind: 'alert', level, description,
      levelName: alertLevelName(level), descriptionName: alertDescriptionName(description),
    });
  }
  return alerts;
}

export interface ChangeCipherSpec {
  kind: 'change_cipher_spec';
}

/** RFC 5246 §7.1: a single byte of value 1. */
export function parseChangeCipherSpec(fragment: Buffer): ChangeCipherSpec | Malformed {
  if (fragment.length !== 1) return malformed(0, `ChangeCipherSpec of ${fragment.length} bytes`);
  if (fragment[0] !== 1) return malformed(0, `ChangeCipherSpec value ${fragment[0]}`);
  return { kind: 'change_cipher_spec' };
}
