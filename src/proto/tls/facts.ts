/**
 * TLS facts: what the TLS analyzer found, as the store writes it and the rules read it. One
 * handshake record per TLS connection, keyed by the TCP flow index it ran on (so FTP data
 * connections, FTPS control connections and TLS flows join on flow numbers), and every
 * certificate seen once, keyed by the SHA-256 of its DER bytes. Timestamps are µs since the epoch.
 */
import { flatString } from '../../decode/bytes.js';

export type TlsRole = 'client' | 'server';

/** How the connection was found: by its first bytes, after a plain-text STARTTLS exchange, or handed over by FTP. */
export type TlsOrigin = 'content' | 'starttls' | 'ftps-control';

export interface TlsMessageFact {
  from: TlsRole;
  /** Handshake type (1 client_hello, 2 server_hello, 11 certificate ...), or -20 for ChangeCipherSpec. */
  type: number;
  name: string;
  frame: number;
  ts: number;
  /** Read only thanks to the key log (TLS 1.3 flight, TLS 1.2 Finished). */
  decrypted: boolean;
}

export interface TlsAlertFact {
  from: TlsRole;
  frame: number;
  ts: number;
  /** null when the alert stayed encrypted (TLS 1.2 alert record after ChangeCipherSpec, no keys). */
  level: number | null;
  description: number | null;
  levelName: string;
  descriptionName: string;
  visibility: 'clear' | 'decrypted' | 'encrypted';
  /** Sent before the handshake completed. */
  duringHandshake: boolean;
}

/**
 * completed: both Finished messages went by (seen, or inferred from the protected records that
 * carry them); failed: a fatal alert, an alert followed by the end, or a peer that is not
 * speaking TLS; dropped: FIN or RST before completion; incomplete: the capture ends first;
 * unknown: the capture joined the connection after its handshake.
 */
export type HandshakeState = 'completed' | 'failed' | 'dropped' | 'incomplete' | 'unknown';

export interface HandshakeFailure {
  kind: 'alert' | 'reset' | 'closed' | 'not-tls';
  /** Who sent the alert / RST / FIN (null when both closed or it cannot be told). */
  by: TlsRole | null;
  frame: number;
  ts: number;
  alert: { level: number | null; description: number | null; name: string; visibility: TlsAlertFact['visibility'] } | null;
  /** The last handshake step before the failure, e.g. "the server's certificate (frame 8)". */
  after: string;
  reason: string;
}

export type DecryptionVerdict = 'yes' | 'no' | 'failed';

/** Where an offered resumption came from: the earlier connection that issued that session ID or ticket. */
export interface ResumptionSource {
  flow: number;
  by: 'session-id' | 'ticket' | 'psk';
}

export interface TlsHandshakeFact {
  /** Flow index of the TCP connection the handshake ran on. */
  flow: number;
  origin: TlsOrigin;
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  /** First and last TLS records of the connection. */
  firstFrame: number;
  firstTs: number;
  lastFrame: number;
  lastTs: number;

  // ---- ClientHello (the first, when a HelloRetryRequest made the client send a second one)
  clientHelloFrame: number | null;
  clientHelloTs: number | null;
  /** The ClientHello came in an SSL 2.0-compatible record. */
  sslv2ClientHello: boolean;
  /** Record-layer version of the ClientHello's record, and the hello's legacy_version. */
  recordVersion: number | null;
  clientVersion: number | null;
  /** supported_versions, GREASE removed. */
  offeredVersions: number[];
  offeredCipherCount: number;
  /** Extension types in wire order. */
  clientExtensions: number[];
  sni: string | null;
  alpnOffered: string[];
  /** ClientHello legacy_session_id, lower-case hex, '' when empty. */
  clientSessionId: string;
  /** The ClientHello carried a non-empty session_ticket (extension 35). */
  offeredTicket: boolean;
  /** pre_shared_key (extension 41, TLS 1.3). */
  offeredPsk: boolean;
  /** Short ids (SHA-256 prefix) of the offered ticket and PSK identities, to match issued tickets. */
  offeredTicketId: string | null;
  pskIdentityIds: string[];
  /** The connection whose session ID or ticket this ClientHello offered, when seen in this capture. */
  resumptionSource: ResumptionSource | null;
  ja3: string | null;
  ja3String: string | null;
  ja4: string | null;

  // ---- ServerHello
  serverHelloFrame: number | null;
  serverHelloTs: number | null;
  /** Extension types in wire order. */
  serverExtensions: number[];
  /** Negotiated version: supported_versions in the ServerHello, else its version field. */
  version: number | null;
  versionName: string | null;
  /** Negotiated cipher suite (a 3-byte CIPHER-SPEC for SSL 2.0). */
  cipherSuite: number | null;
  /** IANA name (hex when unregistered). */
  cipher: string | null;
  alpn: string | null;
  hrr: boolean;
  hrrFrame: number | null;
  /** ServerHello session id, lower-case hex; null when no ServerHello was seen. */
  serverSessionId: string | null;
  pskAccepted: boolean;
  extendedMasterSecret: boolean;
  /** Short ids of tickets the server issued (NewSessionTicket, clear or decrypted). */
  issuedTicketIds: string[];
  ja3s: string | null;
  ja3sString: string | null;
  /**
   * TLS ≤ 1.2: the server echoed a non-empty offered session ID and sent no Certificate, or
   * accepted a ticket (ChangeCipherSpec right after ServerHello); TLS 1.3: the ServerHello
   * carries pre_shared_key. null when no ServerHello (or nothing after it) was seen.
   */
  resumed: boolean | null;

  // ---- certificates, alerts, outcome
  /** Server chain by SHA-256, leaf first, as sent. */
  certs: string[];
  /** Client certificate chain (mutual TLS), when visible. */
  clientCerts: string[];
  /** How the server certificate was seen; 'encrypted' = TLS 1.3 without keys; 'none' = not sent (resumption) or not reached. */
  certsSeen: 'clear' | 'decrypted' | 'encrypted' | 'none';
  alerts: TlsAlertFact[];
  state: HandshakeState;
  failure: HandshakeFailure | null;
  /** Handshake messages and ChangeCipherSpecs in order (the first few). */
  messages: TlsMessageFact[];
  messagesDropped: number;
  /** Application data records and their bytes on the wire, [client, server]. */
  appRecords: [number, number];
  appBytes: [number, number];
  decrypted: DecryptionVerdict;
  decryptNote: string | null;
  /** Where the stream stopped being TLS (garbage, a gap): role, stream offset, reason. */
  malformed: { role: TlsRole; offset: number; frame: number; reason: string } | null;
}

export interface TlsCertificateFact {
  /** Lower-case hex SHA-256 of the DER bytes as sent. */
  sha256: string;
  /** Why the DER did not parse; the other fields are then empty. */
  parseError: string | null;
  subject: string;
  issuer: string;
  subjectCommonName: string | null;
  sanDns: string[];
  sanIp: string[];
  sanEmail: string[];
  /** µs since the epoch. */
  validFrom: number;
  validTo: number;
  keyType: string;
  keyBits: number | null;
  curve: string | null;
  signatureAlgorithm: string;
  weakSignature: boolean;
  serialNumber: string;
  selfSigned: boolean;
  isCa: boolean | null;
  version: number;
  der: Buffer;
  /** First frame that carried it. */
  firstFrame: number;
}

/**
 * What the rules read of a handshake (src/findings/rules). A handshake stored while the capture
 * is still being read waits as this alone when an FTP session's findings still need it (it ran on
 * the session's control or data connection, see TlsFacts.stored); `messages` keeps only the
 * messages the rules look for (see judgedMessages).
 */
export type TlsJudgedHandshake = Pick<TlsHandshakeFact,
  | 'flow' | 'origin' | 'client' | 'clientPort' | 'server' | 'serverPort' | 'firstFrame' | 'firstTs'
  | 'clientHelloFrame' | 'clientHelloTs' | 'clientVersion' | 'offeredVersions' | 'offeredCipherCount'
  | 'sni' | 'clientSessionId' | 'offeredTicket' | 'offeredPsk'
  | 'serverHelloFrame' | 'serverHelloTs' | 'version' | 'versionName' | 'cipherSuite' | 'cipher' | 'serverSessionId' | 'resumed'
  | 'certs' | 'state' | 'failure' | 'messages'>;

export function judgedView(h: TlsJudgedHandshake): TlsJudgedHandshake {
  return {
    flow: h.flow, origin: h.origin, client: h.client, clientPort: h.clientPort, server: h.server, serverPort: h.serverPort,
    firstFrame: h.firstFrame, firstTs: h.firstTs,
    clientHelloFrame: h.clientHelloFrame, clientHelloTs: h.clientHelloTs, clientVersion: h.clientVersion,
    offeredVersions: h.offeredVersions, offeredCipherCount: h.offeredCipherCount,
    sni: h.sni, clientSessionId: h.clientSessionId, offeredTicket: h.offeredTicket, offeredPsk: h.offeredPsk,
    serverHelloFrame: h.serverHelloFrame, serverHelloTs: h.serverHelloTs, version: h.version, versionName: h.versionName,
    cipherSuite: h.cipherSuite, cipher: h.cipher, serverSessionId: h.serverSessionId, resumed: h.resumed,
    certs: h.certs, state: h.state, messages: judgedMessages(h.messages),
    // The failure's texts are built from pieces, which V8 keeps as a tree until flattened.
    failure: h.failure && { ...h.failure, after: flatString(h.failure.after), reason: flatString(h.failure.reason) },
  };
}

/** The first message of a side that carries its certificates: Certificate, or SSL 2.0's server hello. */
export function certificateMessage(messages: TlsMessageFact[], from: 'client' | 'server'): TlsMessageFact | undefined {
  return messages.find((x) => x.from === from && (x.type === 11 || x.name === 'sslv2_server_hello'));
}

/**
 * The messages the rules look for, in their order: each side's certificateMessage and the last
 * message.
 */
function judgedMessages(messages: TlsMessageFact[]): TlsMessageFact[] {
  const keep = new Set<TlsMessageFact>();
  for (const from of ['client', 'server'] as const) {
    const m = certificateMessage(messages, from);
    if (m) keep.add(m);
  }
  if (messages.length > 0) keep.add(messages[messages.length - 1]);
  return messages.filter((m) => keep.has(m));
}

export interface TlsFacts {
  /** Handshakes with every fact, to be stored. */
  handshakes: TlsHandshakeFact[];
  /**
   * Handshakes stored already, handed to the rules with an FTP session: in a settled FTP part,
   * those of its sessions' flows; at the end, those of FTP flows whose session never settled.
   */
  stored: TlsJudgedHandshake[];
  certificates: TlsCertificateFact[];
  /** Handshakes beyond those the analyzer may hold at once (counted, not kept). */
  handshakesDropped: number;
  /**
   * Flows of `handshakes` that the rules judge with their FTP session instead (a settled TLS
   * part: the FTP part that settles the session brings them, with the session to name).
   */
  judgedWithFtp: ReadonlySet<number>;
  /** Every certificate seen so far, for rules judging a settled part (null: `certificates` is complete). */
  certificateIndex: ReadonlyMap<string, TlsCertificateFact> | null;
}

const NONE: ReadonlySet<number> = new Set();

export function emptyTlsFacts(): TlsFacts {
  return { handshakes: [], stored: [], certificates: [], handshakesDropped: 0, judgedWithFtp: NONE, certificateIndex: null };
}

/** The handshakes of a fact set that the rules judge in it, in flow order. */
export function judgedHandshakes(t: TlsFacts): TlsJudgedHandshake[] {
  const held = t.judgedWithFtp.size === 0 ? t.handshakes : t.handshakes.filter((h) => !t.judgedWithFtp.has(h.flow));
  if (t.stored.length === 0) return held;
  return [...t.stored, ...held].sort((a, b) => a.flow - b.flow);
}

/** The handshake that ran on each flow (the first, should a flow carry two). */
export function handshakesByFlow(facts: TlsFacts): Map<number, TlsHandshakeFact> {
  const out = new Map<number, TlsHandshakeFact>();
  for (const h of facts.handshakes) if (!out.has(h.flow)) out.set(h.flow, h);
  return out;
}

/** What an FTPS data connection's TLS showed, relative to its session's control connection. */
export interface DataFlowTls {
  /** A TLS handshake ran on the data connection (a ClientHello was seen). */
  carriedTls: boolean;
  clientHelloFrame: number | null;
  serverHelloFrame: number | null;
  resumed: boolean | null;
  /**
   * The ClientHello offered the control connection's session: its session ID (TLS ≤ 1.2), a
   * ticket or PSK identity the control connection issued. false when it offered nothing or
   * something else; null when it offered a ticket/PSK whose origin cannot be seen (TLS 1.3
   * tickets travel encrypted: known only when the control connection was decrypted).
   */
  offeredControlSession: boolean | null;
}

export function dataFlowTls(facts: TlsFacts, controlFlow: number, dataFlow: number): DataFlowTls {
  const byFlow = handshakesByFlow(facts);
  const d = byFlow.get(dataFlow);
  if (!d || d.clientHelloFrame === null) {
    return { carriedTls: false, clientHelloFrame: null, serverHelloFrame: d?.serverHelloFrame ?? null, resumed: d?.resumed ?? null, offeredControlSession: null };
  }
  const c = byFlow.get(controlFlow);
  let offered: boolean | null;
  if (d.resumptionSource) offered = d.resumptionSource.flow === controlFlow;
  else if (!d.offeredTicket && !d.offeredPsk && (d.clientSessionId === '' || d.version === 0x0304)) offered = false;
  else if (!d.offeredTicket && !d.offeredPsk && c?.serverSessionId && d.version !== 0x0304) offered = d.clientSessionId === c.serverSessionId;
  else offered = null;
  return { carriedTls: true, clientHelloFrame: d.clientHelloFrame, serverHelloFrame: d.serverHelloFrame, resumed: d.resumed, offeredControlSession: offered };
}

export function certificatesBySha(facts: TlsFacts): ReadonlyMap<string, TlsCertificateFact> {
  return facts.certificateIndex ?? new Map(facts.certificates.map((c) => [c.sha256, c]));
}
