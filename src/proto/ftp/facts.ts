/**
 * FTP facts: what the FTP analyzer found, as the store writes it and the rules read it.
 * A session is keyed by its control connection's flow index (`flow`), and every data
 * connection by its own flow index, so facts of other protocols (TLS handshakes on data
 * connections) join on flow numbers. Timestamps are µs since the epoch.
 */
import type { AnnouncementKind } from './portmath.js';

export interface FtpFacts {
  /** Sessions with every fact, to be stored. */
  sessions: FtpSessionFact[];
}

export function emptyFtpFacts(): FtpFacts {
  return { sessions: [] };
}

/**
 * What the TLS rules read of an FTP(S) session: which TLS connections are its control and data
 * connections, and how to name it.
 */
export interface FtpsSessionLink {
  flow: number;
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  tls: Pick<FtpTlsFact, 'mode' | 'auth'>;
  /** The last HOST command's argument (RFC 7151): the name the client asked for. */
  host: string | null;
  /** Its data connections' flows, announced channels' first, in order. */
  dataFlows: number[];
}

export function ftpsSessionLink(s: FtpSessionFact): FtpsSessionLink {
  let host: string | null = null;
  for (let i = s.commands.length - 1; i >= 0 && host === null; i--) {
    const c = s.commands[i];
    if (c.verb === 'HOST' && c.arg) host = c.arg.trim();
  }
  return {
    flow: s.flow, client: s.client, clientPort: s.clientPort, server: s.server, serverPort: s.serverPort,
    tls: { mode: s.tls.mode, auth: s.tls.auth }, host, dataFlows: dataConnections(s).map((c) => c.flow),
  };
}

/** A session's data connections: its announced channels' first, in order, then the encrypted ones no announcement explains. */
export function dataConnections(s: FtpSessionFact): DataConnectionFact[] {
  return [...s.channels.flatMap((ch) => ch.connections), ...s.encryptedDataConnections];
}

/** The sessions of a fact set for the TLS rules, in flow order. */
export function ftpsSessionLinks(f: FtpFacts): FtpsSessionLink[] {
  return f.sessions.map(ftpsSessionLink);
}

/** Where a line was seen: in clear on the wire, or handed back decrypted by the TLS analyzer. */
export type LineVisibility = 'clear' | 'decrypted';

export interface FtpReplyFact {
  /** 0 when the server's line was not a valid reply (e.g. "99 PASV invalid") but answered the command anyway. */
  code: number;
  /** Text without the code; multi-line replies joined by LF. */
  text: string;
  multiline: boolean;
  /** Frame (and its time) in which the reply's last line ended. */
  frame: number;
  ts: number;
}

export interface FtpCommandFact {
  /** Position in the session (0-based), counting every command even beyond the kept ones. */
  seq: number;
  verb: string;
  /** The argument; a PASS argument is null unless the analysis ran with showPasswords. */
  arg: string | null;
  known: boolean;
  /** Frame in which the command line ended. */
  frame: number;
  ts: number;
  via: LineVisibility;
  /** 1xx replies (125/150, 110 markers) before the final one; the first is kept. */
  preliminary: FtpReplyFact | null;
  final: FtpReplyFact | null;
}

export type ChannelMode = 'passive' | 'active';

/** How the observed connection relates to the announcement. */
export type MatchKind =
  /** To the announced address and port. */
  | 'announced'
  /** To the announced port at the control connection's peer address instead (client-side substitution or NAT). */
  | 'control-peer'
  /**
   * To the control peer's private address while a public one was announced: the capture sits
   * inside a destination NAT, where the announced address appears translated. The same as 'announced'.
   */
  | 'nat-translated'
  /** The announcement was not readable (encrypted control channel): a connection between the two hosts during the session. */
  | 'encrypted-session';

export type DataConnectionState =
  /** SYN, SYN-ACK and ACK (or data) seen. */
  | 'completed'
  | 'syn-unanswered'
  /** The SYN was answered by RST. */
  | 'refused'
  | 'icmp-unreachable'
  /** SYN-ACK seen, no further packet from the initiator. */
  | 'half-open'
  /** No SYN in the capture: the connection started before it. */
  | 'midstream';

export interface IcmpEvidence {
  frame: number;
  ts: number;
  reporter: string;
  type: number;
  code: number;
  version: 4 | 6;
}

/** What one TCP connection on a data channel really did (from the flow table at its end). */
export interface DataConnectionFact {
  flow: number;
  matchedBy: MatchKind;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  state: DataConnectionState;
  firstFrame: number;
  lastFrame: number;
  firstTs: number;
  lastTs: number;
  synFrame: number | null;
  synRetransmissions: number;
  synAckFrame: number | null;
  rstFrame: number | null;
  /** 'initiator' or 'responder' sent the first RST. */
  rstFrom: 'initiator' | 'responder' | null;
  icmp: IcmpEvidence[];
  /** Payload bytes initiator→responder and responder→initiator. */
  bytes: [number, number];
  /** Payload bytes by FTP role (the client is the control connection's client). */
  bytesFromClient: number;
  bytesFromServer: number;
  /** The first payload (either direction) was a TLS handshake record (ClientHello for FTPS). */
  tls: boolean;
  /** Frame of that first payload; null when the connection carried no payload. */
  firstPayloadFrame: number | null;
}

/** Outcome of an announcement, from the observed connection or its absence. */
export type ChannelOutcome =
  | DataConnectionState
  /** No connection before the channel's window closed although the server answered 425/426. */
  | 'never-seen'
  /** PORT/EPRT/LPRT refused by the server: no connection expected. */
  | 'rejected'
  /** No connection in the capture and no sign of failure (e.g. a capture filtered to port 21). */
  | 'not-captured'
  /** Not used by any transfer and no connection seen. */
  | 'unused';

export interface FtpChannelFact {
  /** Position among the session's announcements (0-based). */
  id: number;
  kind: AnnouncementKind;
  mode: ChannelMode;
  /** The announcement's frame: the 227/228/229 reply for passive, the PORT/EPRT/LPRT command for active. */
  frame: number;
  ts: number;
  /** For EPSV the control connection's server address (RFC 2428 §3: same address as control). */
  announcedIp: string;
  announcedPort: number;
  /** How the port was computed, e.g. "p1*256+p2 = 195*256+92 = 50012". */
  arithmetic: string;
  /** The announcement line's text (reply text or command argument). */
  text: string;
  /** seq of the PASV/EPSV/LPSV or PORT/EPRT/LPRT command. */
  command: number | null;
  /** Active mode: the server's verdict on the PORT/EPRT/LPRT (2xx); passive: always true. */
  accepted: boolean | null;
  acceptReply: FtpReplyFact | null;
  via: LineVisibility;
  /** seq of the transfer command that used this channel, if any. */
  transfer: number | null;
  /** Connections tied to this announcement (first few kept), in order. */
  connections: DataConnectionFact[];
  /** The connection the JSON calls "observed": the first completed one, else the last attempt. */
  observed: DataConnectionFact | null;
  outcome: ChannelOutcome;
  /** Frame that closed the waiting window (next announcement, final reply) when no connection came. */
  windowClosedFrame: number | null;
}

export interface FtpTransferFact {
  /** seq of the RETR/STOR/STOU/APPE/LIST/NLST/MLSD command. */
  command: number;
  verb: string;
  /** File or path argument (null for a bare LIST). */
  name: string | null;
  frame: number;
  ts: number;
  via: LineVisibility;
  /** REST offset in effect for this transfer. */
  restOffset: string | null;
  channel: number | null;
  preliminary: FtpReplyFact | null;
  final: FtpReplyFact | null;
  /** ok (2xx), failed (4xx/5xx), or no final reply in the capture. */
  result: 'ok' | 'failed' | 'no-reply';
  /** Bytes on the data connection in the transfer's direction (server→client for RETR/LIST...). */
  bytes: number | null;
  /** Data connection duration in µs. */
  durationUs: number | null;
}

export interface TlsFrom {
  /** Byte offsets in the client→server and server→client streams where TLS starts. */
  offsetClient: number;
  offsetServer: number;
  /** Frame in which TLS started (the 234 reply, or the first TLS bytes for implicit FTPS). */
  frame: number;
}

export interface FtpTlsFact {
  mode: 'none' | 'explicit' | 'implicit';
  /** AUTH argument (TLS, SSL, TLS-C, TLS-P), upper-cased. */
  auth: string | null;
  authFrame: number | null;
  authReply: FtpReplyFact | null;
  tlsFrom: TlsFrom | null;
  pbsz: { value: string | null; frame: number; code: number | null } | null;
  /** The last PROT command: level (C/S/E/P) and the server's verdict. */
  prot: { level: string; frame: number; code: number | null; accepted: boolean } | null;
  /** CCC: `inferred` when no CCC was readable but the control stream went back to clear text. */
  ccc: { frame: number; code: number | null; inferred: boolean; clearFromFrame: number | null } | null;
  /** Encrypted control bytes per role (client→server, server→client). */
  encryptedBytes: [number, number];
  /** Lines handed back decrypted by the TLS analyzer. */
  decryptedLines: number;
  /** Some encrypted control traffic stayed unreadable: commands may be missing. */
  partial: boolean;
}

export interface FtpSessionFact {
  /** The control connection's flow index: the session's key everywhere (subject.session). */
  flow: number;
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  detectedBy: 'port' | 'dialogue';
  firstFrame: number;
  lastFrame: number;
  firstTs: number;
  lastTs: number;
  greeting: FtpReplyFact | null;
  /** The last USER argument. */
  user: string | null;
  userFrame: number | null;
  userVia: LineVisibility | null;
  /** The PASS argument only when the analysis ran with showPasswords; never otherwise. */
  password: string | null;
  passFrame: number | null;
  passVia: LineVisibility | null;
  login: 'success' | 'failed' | 'pending' | 'none';
  loginReply: FtpReplyFact | null;
  anonymous: boolean;
  tls: FtpTlsFact;
  /** Commands seen (all of them), and those kept in `commands` (capped). */
  commandCount: number;
  commands: FtpCommandFact[];
  commandsDropped: number;
  transfers: FtpTransferFact[];
  channels: FtpChannelFact[];
  channelsDropped: number;
  /** Connections between the two hosts while the control channel was unreadable (announcements invisible). */
  encryptedDataConnections: DataConnectionFact[];
  /** Replies that answered no pending command (e.g. 421 on timeout); first few kept. */
  unsolicited: FtpReplyFact[];
  malformedLines: number;
  /** Bytes missing from the control stream (capture loss). */
  gapBytes: number;
}
