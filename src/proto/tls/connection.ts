/**
 * One TLS connection seen from the wire: both byte streams split into records, the cleartext
 * handshake reassembled and decoded, the protected part decrypted when the key log allows, and
 * the outcome judged (completed, failed with an alert, dropped, cut off by the capture).
 *
 * Memory stays bounded: the record splitter holds at most one record, handshake messages are
 * capped, and application data is skipped unbuffered unless it is being decrypted (an FTPS
 * control connection, whose plaintext goes back to the FTP analyzer; other connections are
 * decrypted only through their handshake, to read TLS 1.3 certificates and prove the keys).
 */
import type { Flow } from '../../flow/flow.js';
import { ownedCopy } from '../../decode/bytes.js';
import type { CertificateRegistry } from './cert-registry.js';
import type { DecryptResult, TlsDecryptor } from './decrypt.js';
import type {
  HandshakeFailure, TlsAlertFact, TlsHandshakeFact, TlsMessageFact, TlsOrigin, TlsRole,
} from './facts.js';
import {
  type Alert, type ClientHello, HS, type HandshakeAssembler, type HandshakeMessage, type ServerHello,
  decodeHandshake, newHandshakeAssembler, parseAlerts, pushHandshake,
} from './handshake.js';
import { clientHelloFields, isTls13, serverHelloFields, sslv2CipherLabel } from './hello-facts.js';
import { type KeyStore, ticketId } from './keystore.js';
import { type HelloKeys, lookUpKeys } from './key-lookup.js';
import { alertDescriptionName, alertLevelName, handshakeTypeName } from './names.js';
import { CONTENT, type RecordSplitter, type Sslv2Record, type TlsRecord, newRecordSplitter, pushRecords } from './records.js';
import type { ResumptionIndex } from './resumption.js';
import { SSL2_MSG, parseSslv2ServerHello, sslv2ChosenCipher } from './sslv2.js';
import { judgeOutcome } from './outcome.js';

export interface ConnectionEnv {
  keys: KeyStore;
  certs: CertificateRegistry;
  resumption: ResumptionIndex;
  /** A warning about this connection (the analyzer words the flow). */
  warn(message: string, frame: number | null): void;
  /** The key log has no entry for this connection (budgeted by the analyzer). */
  noKeys(conn: TlsConnection, frame: number): void;
  /** Largest handshake message kept (bytes). */
  maxMessage: number;
}

export interface ConnectionInit {
  flow: Flow;
  origin: TlsOrigin;
  /** Flow direction (0 = initiator → responder) carrying the client's bytes. */
  clientDir: 0 | 1;
  /** Decrypted application data (FTPS control): every record is decrypted and handed back. */
  plaintext?: (role: TlsRole, data: Buffer, frame: number, ts: number) => void;
}

const MAX_MESSAGES = 32;
const MAX_ALERTS = 16;
const MAX_TICKETS = 8;
const MAX_EARLY_RECORDS = 64;
const MAX_EARLY_BYTES = 256 * 1024;
/** Handshake type used in message facts for ChangeCipherSpec and for unreadable handshake records. */
export const CCS_TYPE = -20;
export const ENCRYPTED_HANDSHAKE_TYPE = -22;

interface Side {
  role: TlsRole;
  splitter: RecordSplitter | null;
  /** Next stream offset expected; -1 before the first byte. */
  next: number;
  clear: HandshakeAssembler;
  inner: HandshakeAssembler;
  /** TLS ≤ 1.2 ChangeCipherSpec sent: this side's later records are protected. */
  ccs: boolean;
  /** Protected records sent after the ServerHello (the Finished and what follows). */
  protectedRecords: number;
  /** Finished read (decrypted) or, without keys, its protected record seen. */
  finished: boolean;
  /** Nothing more is read from this side (framing lost, not TLS, or TLS ended by CCC). */
  stopped: boolean;
  sslv2Records: number;
  /**
   * Latest frame and time delivered on this side. Bytes that waited out of order come with their
   * own (earlier) frame; a message is complete only once the frame that filled the hole arrived.
   */
  frame: number;
  ts: number;
}

function newSide(role: TlsRole, maxMessage: number): Side {
  return {
    role, splitter: null, next: -1, clear: newHandshakeAssembler(maxMessage), inner: newHandshakeAssembler(maxMessage),
    ccs: false, protectedRecords: 0, finished: false, stopped: false, sslv2Records: 0, frame: 0, ts: 0,
  };
}

export class TlsConnection {
  readonly fact: TlsHandshakeFact;
  readonly flow: Flow;
  private sides: Record<TlsRole, Side>;
  /**
   * What the connection still needs of its hellos once their facts are taken: the randoms and
   * the suite for key lookup, the offered versions. The parsed hellos (every extension with its
   * bytes) are not kept: thousands of connections in flight made them a large share of the heap.
   */
  private clientHello: (HelloKeys['client'] & { supportedVersions: number[] }) | null = null;
  private serverHello: HelloKeys['server'] | null = null;
  private sslv2Server = false;
  private dec: TlsDecryptor | null = null;
  /** Keys were looked up (TLS 1.3 at the ServerHello, TLS ≤ 1.2 at the first ChangeCipherSpec). */
  private keysTried = false;
  private decryptWarned = false;
  private decryptedSomething = false;
  private masterSecret: Buffer | null = null;
  /** TLS 1.3 record of exactly an alert's size before completion, without keys to read it. */
  private suspectedAlert: TlsAlertFact | null = null;
  /** TLS 1.3 0-RTT records sent before the ServerHello, kept (bounded) for the decryptor. */
  private early: TlsRecord[] = [];
  private earlyBytes = 0;
  completedAt: { frame: number; ts: number } | null = null;
  private finishedFact = false;

  constructor(private env: ConnectionEnv, private init: ConnectionInit) {
    const f = init.flow;
    this.flow = f;
    const c = init.clientDir === 0;
    this.sides = { client: newSide('client', env.maxMessage), server: newSide('server', env.maxMessage) };
    this.fact = {
      flow: f.index, origin: init.origin,
      client: c ? f.srcIp : f.dstIp, clientPort: c ? f.srcPort : f.dstPort,
      server: c ? f.dstIp : f.srcIp, serverPort: c ? f.dstPort : f.srcPort,
      firstFrame: 0, firstTs: 0, lastFrame: 0, lastTs: 0,
      clientHelloFrame: null, clientHelloTs: null, sslv2ClientHello: false, recordVersion: null, clientVersion: null,
      offeredVersions: [], offeredCipherCount: 0, clientExtensions: [], sni: null, alpnOffered: [], clientSessionId: '',
      offeredTicket: false, offeredPsk: false, offeredTicketId: null, pskIdentityIds: [], resumptionSource: null,
      ja3: null, ja3String: null, ja4: null,
      serverHelloFrame: null, serverHelloTs: null, serverExtensions: [], version: null, versionName: null, cipherSuite: null,
      cipher: null, alpn: null, hrr: false, hrrFrame: null, serverSessionId: null, pskAccepted: false, extendedMasterSecret: false,
      issuedTicketIds: [], ja3s: null, ja3sString: null, resumed: null,
      certs: [], clientCerts: [], certsSeen: 'none', alerts: [], state: 'unknown', failure: null, messages: [], messagesDropped: 0,
      appRecords: [0, 0], appBytes: [0, 0], decrypted: 'no', decryptNote: null, malformed: null,
    };
  }

  roleOf(dir: 0 | 1): TlsRole {
    return dir === this.init.clientDir ? 'client' : 'server';
  }

  // ---------------------------------------------------------------------------------------
  // Input

  data(role: TlsRole, bytes: Buffer, offset: number, frame: number, ts: number): void {
    const side = this.sides[role];
    if (side.stopped || bytes.length === 0) return;
    if (frame > side.frame) { side.frame = frame; side.ts = ts; } else { frame = side.frame; ts = Math.max(ts, side.ts); }
    if (side.splitter === null) {
      side.splitter = newRecordSplitter({ streamOffset: offset, keepApplicationData: this.keepAppData() });
      side.next = offset;
    }
    if (offset > side.next) {
      // Bytes went missing in between: record boundaries cannot be found again.
      this.gap(role, side.next, offset - side.next, frame);
      return;
    }
    if (offset < side.next) {
      if (offset + bytes.length <= side.next) return;
      bytes = bytes.subarray(side.next - offset);
      offset = side.next;
    }
    side.next = offset + bytes.length;
    for (const out of pushRecords(side.splitter, bytes)) {
      if (side.stopped) return;
      if (out.kind === 'malformed') this.notTls(side, out.offset, out.reason, frame, ts);
      else if (out.kind === 'sslv2') this.sslv2Record(side, out, frame, ts);
      else this.record(side, out, frame, ts);
    }
  }

  gap(role: TlsRole, offset: number, length: number, frame: number): void {
    const side = this.sides[role];
    if (side.stopped) return;
    this.stop(side);
    // After a handshake nobody decrypts, only record counts are lost: not worth a warning.
    if (this.completedAt && this.dec === null) return;
    this.env.warn(`${length} bytes missing from the ${role}'s stream at offset ${offset}; its later TLS records are not read`, frame);
  }

  /** TLS ended on one side at `offset` (FTP CCC: clear text follows), or the stream ended (-1). */
  endRole(role: TlsRole): void {
    this.stop(this.sides[role]);
  }

  private stop(side: Side): void {
    side.stopped = true;
    side.splitter = null;
    side.clear = newHandshakeAssembler(0);
    side.inner = newHandshakeAssembler(0);
  }

  private touch(frame: number, ts: number): void {
    if (this.fact.firstFrame === 0) { this.fact.firstFrame = frame; this.fact.firstTs = ts; }
    this.fact.lastFrame = frame;
    this.fact.lastTs = ts;
  }

  private notTls(side: Side, offset: number, reason: string, frame: number, ts: number): void {
    this.fact.malformed ??= { role: side.role, offset, frame, reason };
    this.stop(side);
    this.env.warn(`the ${side.role}'s stream stops being TLS at stream offset ${offset} (${reason}); the rest of it is not read`, frame);
    if (!this.completedAt && this.fact.failure === null && this.clientHello !== null) {
      this.fact.failure = {
        kind: 'not-tls', by: side.role, frame, ts, alert: null, after: this.lastStep(),
        reason: `the ${side.role} sent bytes that are not TLS (${reason})`,
      };
    }
  }

  // ---------------------------------------------------------------------------------------
  // Records

  private get version(): number | null {
    return this.fact.version;
  }

  private get tls13(): boolean {
    return isTls13(this.version);
  }

  /** Whether records of this side are protected from now on. */
  private isProtected(side: Side, contentType: number): boolean {
    if (this.tls13 || (this.version === null && contentType === CONTENT.APPLICATION_DATA)) return contentType === CONTENT.APPLICATION_DATA;
    return side.ccs || contentType === CONTENT.APPLICATION_DATA;
  }

  private record(side: Side, rec: TlsRecord, frame: number, ts: number): void {
    this.touch(frame, ts);
    if (this.fact.recordVersion === null && side.role === 'client' && rec.contentType === CONTENT.HANDSHAKE) this.fact.recordVersion = rec.version;
    if (rec.contentType === CONTENT.CHANGE_CIPHER_SPEC) { this.changeCipherSpec(side, rec, frame, ts); return; }
    if (!this.keysTried && rec.contentType === CONTENT.APPLICATION_DATA && this.clientHello === null && this.serverHello === null) {
      // Joined after the handshake: without the hellos there is nothing to find keys by.
      this.keysTried = true;
      this.syncSplitters();
    }
    if (this.dec !== null && rec.kept) {
      const r = this.dec.decrypt(side.role, rec);
      if (r.kind === 'plaintext') { this.plaintext(side, rec, r, frame, ts); return; }
      if (r.kind === 'failure') this.decryptFailure(side, r, frame);
    }
    if (!this.isProtected(side, rec.contentType)) {
      if (rec.contentType === CONTENT.HANDSHAKE) this.handshakeFragment(side, side.clear, rec.fragment, rec.streamOffset + 5, false, frame, ts);
      else if (rec.contentType === CONTENT.ALERT) this.clearAlerts(side, rec.fragment, frame, ts);
      return;
    }
    this.opaque(side, rec, frame, ts);
  }

  /** A protected record nobody could read. */
  private opaque(side: Side, rec: TlsRecord, frame: number, ts: number): void {
    const ct = rec.contentType;
    if (ct === CONTENT.APPLICATION_DATA && side.role === 'client' && this.clientHello !== null && this.serverHello === null) {
      this.earlyData(rec);
      return;
    }
    if (this.tls13) {
      if (this.completedAt) { this.appData(side, rec.length); return; }
      side.protectedRecords++;
      // An alert protected by TLS 1.3 is 2 bytes + the inner type + the AEAD tag: nothing else is that short.
      const tag = this.dec?.params.tagLength ?? 16;
      if (rec.length === 3 + tag && this.suspectedAlert === null) {
        this.suspectedAlert = this.alertFact(side, null, frame, ts, 'encrypted');
      } else if (side.role === 'client' && this.sides.server.protectedRecords > 0) {
        side.finished = true;
      } else if (side.role === 'server') {
        side.finished = true;
      }
      this.checkCompleted(frame, ts);
      return;
    }
    if (ct === CONTENT.APPLICATION_DATA) { this.appData(side, rec.length); return; }
    if (ct === CONTENT.ALERT) { this.pushAlert(this.alertFact(side, null, frame, ts, 'encrypted')); return; }
    if (ct === CONTENT.HANDSHAKE) {
      side.protectedRecords++;
      if (!side.finished) {
        side.finished = true;
        this.message(side, ENCRYPTED_HANDSHAKE_TYPE, 'encrypted_handshake_message', frame, ts, false);
      }
      this.checkCompleted(frame, ts);
    }
  }

  /** 0-RTT data (RFC 8446 §4.2.10): readable only with CLIENT_EARLY_TRAFFIC_SECRET, once the ServerHello is known. */
  private earlyData(rec: TlsRecord): void {
    if (!rec.kept || this.keysTried || this.early.length >= MAX_EARLY_RECORDS || this.earlyBytes + rec.length > MAX_EARLY_BYTES) return;
    this.early.push(rec);
    this.earlyBytes += rec.length;
  }

  private appData(side: Side, length: number): void {
    const i = side.role === 'client' ? 0 : 1;
    this.fact.appRecords[i]++;
    this.fact.appBytes[i] += length;
  }

  private changeCipherSpec(side: Side, rec: TlsRecord, frame: number, ts: number): void {
    // TLS 1.3 middlebox compatibility (RFC 8446 §D.4): a CCS that changes nothing. Before the
    // ServerHello only a TLS 1.3 client sends one.
    if (this.tls13 || (this.version === null && this.mayBeTls13())) {
      if (this.dec) this.dec.decrypt(side.role, rec);
      return;
    }
    if (side.ccs) return;
    side.ccs = true;
    this.message(side, CCS_TYPE, 'change_cipher_spec', frame, ts, false);
    // ≤ 1.2: the server's CCS straight after ServerHello (no Certificate) is an abbreviated handshake.
    if (side.role === 'server' && this.fact.resumed !== false && this.serverHello !== null) this.fact.resumed = true;
    if (!this.keysTried) this.setupKeys(frame);
    if (this.dec) this.dec.decrypt(side.role, rec);
  }

  /** Before the ServerHello: only a client that offered TLS 1.3 sends a compatibility CCS. */
  private mayBeTls13(): boolean {
    const offered = this.clientHello?.supportedVersions ?? [];
    return offered.some((v) => isTls13(v));
  }

  private sslv2Record(side: Side, rec: Sslv2Record, frame: number, ts: number): void {
    this.touch(frame, ts);
    side.sslv2Records++;
    if (side.role === 'client' && rec.clientHello) {
      if (rec.clientHello.kind === 'client_hello') this.onClientHello(rec.clientHello, frame, ts);
      return;
    }
    if (side.role === 'server' && rec.msgType === SSL2_MSG.SERVER_HELLO && !this.sslv2Server && this.serverHello === null) {
      const sh = parseSslv2ServerHello(rec.message);
      if (sh.kind === 'malformed') return;
      this.sslv2Server = true;
      const f = this.fact;
      f.serverHelloFrame = frame;
      f.serverHelloTs = ts;
      f.version = 0x0002;
      f.versionName = 'SSL 2.0';
      f.resumed = sh.sessionIdHit;
      this.message(side, SSL2_MSG.SERVER_HELLO, 'sslv2_server_hello', frame, ts, false);
      if (sh.certificateType === 1 && sh.certificate.length > 0) {
        f.certs = [this.env.certs.add(sh.certificate, frame)];
        f.certsSeen = 'clear';
      }
      return;
    }
    if (side.role === 'client' && this.sslv2Server && this.fact.cipherSuite === null) {
      const chosen = sslv2ChosenCipher(rec.message);
      if (chosen !== undefined) {
        this.fact.cipherSuite = chosen;
        this.fact.cipher = sslv2CipherLabel(chosen);
        this.message(side, SSL2_MSG.CLIENT_MASTER_KEY, 'sslv2_client_master_key', frame, ts, false);
      }
    }
    if (this.sslv2Server && this.sides.client.sslv2Records >= 3 && this.sides.server.sslv2Records >= 2) this.checkCompleted(frame, ts, true);
  }

  // ---------------------------------------------------------------------------------------
  // Handshake messages

  private handshakeFragment(side: Side, asm: HandshakeAssembler, fragment: Buffer, offset: number, decrypted: boolean, frame: number, ts: number): void {
    for (const msg of pushHandshake(asm, fragment, offset)) {
      if (msg.kind === 'malformed') {
        this.env.warn(`the ${side.role}'s ${decrypted ? 'decrypted ' : ''}handshake at stream offset ${msg.offset} is not readable (${msg.reason})`, frame);
        continue;
      }
      this.handshakeMessage(side, msg, decrypted, frame, ts);
    }
  }

  private handshakeMessage(side: Side, msg: HandshakeMessage, decrypted: boolean, frame: number, ts: number): void {
    const view = decodeHandshake(msg, this.version === null ? undefined : this.tls13);
    const name = view.kind === 'server_hello' && view.helloRetryRequest ? 'hello_retry_request' : handshakeTypeName(msg.msgType);
    this.message(side, msg.msgType, name, frame, ts, decrypted);
    if (view.kind === 'malformed') {
      this.env.warn(`the ${side.role}'s ${handshakeTypeName(msg.msgType)} at stream offset ${view.offset} is malformed (${view.reason})`, frame);
      return;
    }
    switch (view.kind) {
      case 'client_hello':
        if (side.role === 'client') this.onClientHello(view, frame, ts);
        return;
      case 'server_hello':
        if (side.role === 'server') this.onServerHello(view, frame, ts);
        return;
      case 'certificate': {
        const list = view.entries.map((e) => this.env.certs.add(e.der, frame));
        if (side.role === 'server' && this.fact.certs.length === 0) {
          this.fact.certs = list;
          this.fact.certsSeen = decrypted ? 'decrypted' : 'clear';
        } else if (side.role === 'client' && this.fact.clientCerts.length === 0) {
          this.fact.clientCerts = list;
        }
        if (side.role === 'server' && !this.tls13) this.fact.resumed = false;
        return;
      }
      case 'new_session_ticket': {
        if (side.role !== 'server' || view.ticket.length === 0) return;
        const id = ticketId(view.ticket);
        if (this.fact.issuedTicketIds.length < MAX_TICKETS && !this.fact.issuedTicketIds.includes(id)) this.fact.issuedTicketIds.push(id);
        this.env.resumption.ticketIssued(id, this.fact.flow);
        if (this.masterSecret && !this.tls13) this.env.keys.cacheTicket(id, this.masterSecret);
        return;
      }
      default:
        break;
    }
    if (side.role === 'server' && !this.tls13 && (msg.msgType === HS.SERVER_KEY_EXCHANGE || msg.msgType === HS.SERVER_HELLO_DONE || msg.msgType === HS.CERTIFICATE_REQUEST)) {
      this.fact.resumed = false;
    }
    if (msg.msgType === HS.FINISHED && decrypted) {
      side.finished = true;
      this.checkCompleted(frame, ts);
    }
  }

  private onClientHello(h: ClientHello, frame: number, ts: number): void {
    const f = this.fact;
    if (this.clientHello !== null) return; // the second ClientHello after a HelloRetryRequest: the first one fingerprints the client
    this.clientHello = { random: ownedCopy(h.random), supportedVersions: h.supportedVersions ?? [] };
    f.clientHelloFrame = frame;
    f.clientHelloTs = ts;
    Object.assign(f, clientHelloFields(h));
    f.resumptionSource = this.env.resumption.sourceOf({ sessionId: f.clientSessionId, ticketId: f.offeredTicketId, pskIds: f.pskIdentityIds }, f.flow);
  }

  private onServerHello(h: ServerHello, frame: number, ts: number): void {
    const f = this.fact;
    if (h.helloRetryRequest) {
      f.hrr = true;
      f.hrrFrame ??= frame;
      if (h.supportedVersion !== undefined) { f.version = h.negotiatedVersion; f.versionName = serverHelloFields(h).versionName; }
      return;
    }
    if (this.serverHello !== null) return;
    this.serverHello = { random: ownedCopy(h.random), cipherSuite: h.cipherSuite, negotiatedVersion: h.negotiatedVersion, encryptThenMac: h.encryptThenMac };
    f.serverHelloFrame = frame;
    f.serverHelloTs = ts;
    Object.assign(f, serverHelloFields(h));
    if (isTls13(f.version)) {
      f.resumed = f.pskAccepted;
      f.certsSeen = f.pskAccepted ? 'none' : 'encrypted';
      this.setupKeys(frame);
      return;
    }
    // TLS ≤ 1.2: echoing the offered session ID is how a server says it resumes (RFC 5246
    // §7.4.1.3); a ticket accepted without an echo shows only as a CCS with no Certificate.
    const echoed = f.clientSessionId !== '' && f.serverSessionId === f.clientSessionId;
    f.resumed = echoed ? true : f.offeredTicket ? null : false;
    if (!echoed && f.serverSessionId) this.env.resumption.sessionIssued(f.serverSessionId, f.flow);
    if (echoed && f.resumptionSource === null) f.resumptionSource = this.env.resumption.sourceOf({ sessionId: f.clientSessionId, ticketId: null, pskIds: [] }, f.flow);
  }

  // ---------------------------------------------------------------------------------------
  // Alerts

  private clearAlerts(side: Side, fragment: Buffer, frame: number, ts: number): void {
    const alerts = parseAlerts(fragment);
    // An alert is 2 bytes; a longer alert record, or one with an impossible level, is one that
    // is protected by keys set up where the capture could not see it (a missed CCS, a one-sided capture).
    if (!Array.isArray(alerts) || fragment.length > 8 || alerts.some((a) => (a.level !== 1 && a.level !== 2) || a.descriptionName.startsWith('unknown('))) {
      this.pushAlert(this.alertFact(side, null, frame, ts, 'encrypted'));
      return;
    }
    for (const a of alerts) this.pushAlert(this.alertFact(side, a, frame, ts, 'clear'));
  }

  private alertFact(side: Side, a: Alert | null, frame: number, ts: number, visibility: TlsAlertFact['visibility']): TlsAlertFact {
    return {
      from: side.role, frame, ts, level: a?.level ?? null, description: a?.description ?? null,
      levelName: a ? alertLevelName(a.level) : 'encrypted', descriptionName: a ? alertDescriptionName(a.description) : 'encrypted alert',
      visibility, duringHandshake: this.completedAt === null,
    };
  }

  private pushAlert(a: TlsAlertFact): void {
    if (this.fact.alerts.length < MAX_ALERTS) this.fact.alerts.push(a);
    if (a.duringHandshake && this.fact.failure === null && (a.level === 2 || a.visibility === 'encrypted')) {
      this.fact.failure = alertFailure(a, this.lastStep());
    }
  }

  // ---------------------------------------------------------------------------------------
  // Decryption

  private keepAppData(): boolean {
    if (this.dec !== null) return true;
    // Before the keys are looked up, protected records may still be needed (TLS 1.3 flight).
    return !this.keysTried && !this.env.keys.empty;
  }

  private syncSplitters(): void {
    const keep = this.keepAppData();
    for (const s of [this.sides.client, this.sides.server]) if (s.splitter) s.splitter.keepApplicationData = keep;
  }

  /** Keys are looked up once: TLS 1.3 at the ServerHello, TLS ≤ 1.2 at the first ChangeCipherSpec (resumption known by then). */
  private setupKeys(frame: number): void {
    this.keysTried = true;
    const ch = this.clientHello, sh = this.serverHello, f = this.fact;
    if (!ch || !sh || this.env.keys.empty) { this.syncSplitters(); return; }
    const resumedBy = f.resumed === true && !isTls13(f.version) ? { sessionId: f.clientSessionId || null, ticketId: f.offeredTicketId } : null;
    const k = lookUpKeys(this.env.keys, ch, sh, resumedBy);
    switch (k.kind) {
      case 'no-keys':
        this.noKeys(frame);
        break;
      case 'skipped':
        f.decryptNote = k.note;
        break;
      case 'unusable':
        f.decrypted = 'failed';
        f.decryptNote = k.detail;
        this.warnDecrypt(`the key log has secrets for this connection but they cannot be used: ${k.detail}`, frame);
        break;
      case 'decryptor': {
        this.dec = k.dec;
        f.decryptNote = k.note;
        if (k.master) {
          this.masterSecret = k.master;
          if (f.serverSessionId) this.env.keys.cacheSession(f.serverSessionId, k.master);
          for (const id of f.issuedTicketIds) this.env.keys.cacheTicket(id, k.master);
        }
        // Without the early secret the decryptor's first client key is the handshake one:
        // feeding it 0-RTT records would only push its sequence number off.
        const early = k.earlySecret ? this.early : [];
        for (const rec of early) {
          const r = k.dec.decrypt('client', rec);
          // A failure is 0-RTT data the server rejected: not the keys' fault.
          if (r.kind === 'plaintext') this.plaintext(this.sides.client, rec, r, frame, f.serverHelloTs ?? 0);
        }
        break;
      }
    }
    this.early = [];
    this.syncSplitters();
  }

  private noKeys(frame: number): void {
    this.fact.decryptNote = 'no key log entry for its client random';
    this.env.noKeys(this, frame);
  }

  private warnDecrypt(message: string, frame: number): void {
    if (this.decryptWarned) return;
    this.decryptWarned = true;
    this.env.warn(message, frame);
  }

  private decryptFailure(side: Side, r: DecryptResult & { kind: 'failure' }, frame: number): void {
    this.dec = null;
    this.fact.decrypted = this.decryptedSomething && this.completedAt ? 'yes' : 'failed';
    const what = r.reason === 'missing-secret' ? `the key log lacks a secret (${r.detail})` : `the key log's secrets do not decrypt it (${r.reason}: ${r.detail})`;
    this.fact.decryptNote = `${side.role} record ${r.seq} (${r.epoch} keys, frame ${frame}): ${what}`;
    this.warnDecrypt(`${side.role} record ${r.seq} of the ${r.epoch} epoch in frame ${frame} could not be decrypted: ${what}; nothing further of this connection is decrypted`, frame);
    this.syncSplitters();
  }

  private plaintext(side: Side, rec: TlsRecord, r: DecryptResult & { kind: 'plaintext' }, frame: number, ts: number): void {
    this.decryptedSomething = true;
    if (this.fact.decrypted === 'no') this.fact.decrypted = 'yes';
    switch (r.contentType) {
      case CONTENT.HANDSHAKE:
        side.protectedRecords++;
        this.handshakeFragment(side, side.inner, r.data, 0, true, frame, ts);
        break;
      case CONTENT.ALERT: {
        const alerts = parseAlerts(r.data);
        if (Array.isArray(alerts)) for (const a of alerts) this.pushAlert(this.alertFact(side, a, frame, ts, 'decrypted'));
        break;
      }
      case CONTENT.APPLICATION_DATA:
        this.appData(side, rec.length);
        this.init.plaintext?.(side.role, r.data, frame, ts);
        break;
      default:
        break;
    }
    // Other connections are decrypted only as far as the handshake: that proves the keys and
    // shows TLS 1.3 certificates; their application data is counted, not read.
    if (this.completedAt && !this.init.plaintext && this.dec) {
      this.dec = null;
      this.syncSplitters();
    }
  }

  // ---------------------------------------------------------------------------------------
  // Progress

  private checkCompleted(frame: number, ts: number, force = false): void {
    if (this.completedAt) return;
    const c = this.sides.client, s = this.sides.server;
    let done = force;
    if (!done && this.serverHello !== null) {
      done = this.tls13 ? c.finished && s.finished : c.ccs && s.ccs && c.finished && s.finished;
    }
    if (!done) return;
    this.completedAt = { frame, ts };
    this.suspectedAlert = null;
  }

  private message(side: Side, type: number, name: string, frame: number, ts: number, decrypted: boolean): void {
    const list = this.fact.messages;
    if (list.length >= MAX_MESSAGES) { this.fact.messagesDropped++; return; }
    const m: TlsMessageFact = { from: side.role, type, name, frame, ts, decrypted };
    list.push(m);
  }

  private lastStep(): string {
    const m = this.fact.messages[this.fact.messages.length - 1];
    if (!m) return 'before any handshake message';
    return `after the ${m.from}'s ${m.name.replace(/_/g, ' ')} (frame ${m.frame})`;
  }

  /** The connection is over: judge it and return the fact. */
  finish(): TlsHandshakeFact {
    if (this.finishedFact) return this.fact;
    this.finishedFact = true;
    const f = this.fact;
    if (f.decrypted === 'no' && this.decryptedSomething) f.decrypted = 'yes';
    judgeOutcome(f, {
      helloSeen: this.clientHello !== null,
      completedAt: this.completedAt,
      suspectedAlert: this.suspectedAlert,
      flow: this.flow,
      clientDir: this.init.clientDir,
      lastStep: this.lastStep(),
    });
    if (this.suspectedAlert && f.state !== 'completed' && f.alerts.length < MAX_ALERTS) f.alerts.push(this.suspectedAlert);
    this.dec = null;
    this.sides.client.splitter = null;
    this.sides.server.splitter = null;
    return f;
  }
}

export function alertFailure(a: TlsAlertFact, after: string): HandshakeFailure {
  const what = a.visibility === 'encrypted' ? 'an encrypted alert' : `a ${a.levelName} ${a.descriptionName} alert`;
  return {
    kind: 'alert', by: a.from, frame: a.frame, ts: a.ts,
    alert: { level: a.level, description: a.description, name: a.descriptionName, visibility: a.visibility },
    after, reason: `the ${a.from} sent ${what} in frame ${a.frame}, ${after}`,
  };
}

