/**
 * One FTP control connection: commands matched to replies (in order, so pipelined commands
 * pair up; 1xx replies are preliminary), login, FTPS state, announcements and transfers.
 * Clear lines and lines handed back decrypted by the TLS analyzer take the same path.
 */
import type { Dir, Flow, StreamConsumer } from '../../flow/flow.js';
import {
  assembleReply, endReplies, newLineSplitter, newReplyAssembler, parseCommand, splitLines,
  type FtpCommand, type FtpLine, type FtpReply, type LineSplitter,
} from './control.js';
import { responseUsesDataConnection } from './commands.js';
import { announcementFromCommand, announcementFromReply, type Announcement } from './portmath.js';
import { ControlStream, ROLES, type Role } from './control-stream.js';
import type { DecryptedControlSink, FtpTlsSink } from './tls-handoff.js';
import { CHANNEL_WINDOW_US, type ChannelState, type ControlPeers } from './channel.js';
import { dialogueVerdict } from './dialogue.js';
import { settleChannels } from './outcome.js';
import type {
  ChannelMode, FtpChannelFact, FtpCommandFact, FtpReplyFact, FtpSessionFact, FtpTransferFact, LineVisibility, TlsFrom,
} from './facts.js';
import { flatString } from '../../decode/bytes.js';

export interface SessionHooks {
  /** A new announcement: the matcher starts waiting for its connection. */
  announce(ch: ChannelState): void;
  /** The announcement's window closed (superseded, transfer answered, PORT refused). */
  close(ch: ChannelState): void;
  warn(message: string, frame: number | null): void;
  tlsStart(session: FtpSession, from: TlsFrom, implicit: boolean): FtpTlsSink | null;
  /** A session found by its dialogue turned out to be FTP (true) or something else (false). */
  decided(session: FtpSession, isFtp: boolean): void;
}

export interface SessionLimits {
  showPasswords: boolean;
  /** Client bytes kept after AUTH while its reply is awaited. */
  maxHold: number;
  maxCommands: number;
  maxChannels: number;
  maxPending: number;
}

interface Pending {
  command: FtpCommandFact;
  transfer: FtpTransferFact | null;
  channel: ChannelState | null;
  /** Stream offset just past the command line (clear commands only). */
  lineEnd: number | null;
}

const MAX_UNSOLICITED = 20;

interface Orphan { r: FtpReply; reply: FtpReplyFact; via: LineVisibility }

function isPositive(code: number): boolean {
  return code >= 200 && code < 400;
}

export class FtpSession implements StreamConsumer, DecryptedControlSink {
  readonly name = 'ftp';
  readonly fact: FtpSessionFact;
  /** Found by dialogue and not yet confirmed by a command only FTP has. */
  tentative: boolean;
  abandoned = false;
  /** Released when the control connection ends (null): nothing reads from it afterwards. */
  private stream: ControlStream | null;
  private replies = newReplyAssembler();
  private decrypted: Record<Role, LineSplitter> = { client: newLineSplitter(), server: newLineSplitter() };
  private pending: Pending[] = [];
  private lastChannel: ChannelState | null = null;
  /** REST offset accepted (350) and waiting for the next transfer. */
  private restOffset: string | null = null;
  /** Replies that came before any command could claim them, in order. */
  private orphans: Orphan[] = [];
  private greetingDone = false;
  private tlsSink: FtpTlsSink | null = null;
  /** The server's stream was not clear text when the connection ended. */
  private endedUnclear = false;
  private warned = new Set<string>();
  private ended = false;

  constructor(readonly flow: Flow, readonly clientDir: Dir, detectedBy: 'port' | 'dialogue',
    private hooks: SessionHooks, private limits: SessionLimits) {
    this.tentative = detectedBy === 'dialogue';
    const c = clientDir === 0;
    this.fact = {
      flow: flow.index,
      client: c ? flow.srcIp : flow.dstIp, clientPort: c ? flow.srcPort : flow.dstPort,
      server: c ? flow.dstIp : flow.srcIp, serverPort: c ? flow.dstPort : flow.srcPort,
      detectedBy, firstFrame: flow.firstFrame, lastFrame: flow.lastFrame, firstTs: flow.firstTs, lastTs: flow.lastTs,
      greeting: null, user: null, userFrame: null, userVia: null, password: null, passFrame: null, passVia: null,
      login: 'none', loginReply: null, anonymous: false,
      tls: { mode: 'none', auth: null, authFrame: null, authReply: null, tlsFrom: null, pbsz: null, prot: null, ccc: null,
        encryptedBytes: [0, 0], decryptedLines: 0, partial: false },
      commandCount: 0, commands: [], commandsDropped: 0, transfers: [], channels: [], channelsDropped: 0,
      encryptedDataConnections: [], unsolicited: [], malformedLines: 0, gapBytes: 0,
    };
    this.stream = new ControlStream({
      line: (role, line, frame, ts) => this.line(role, line, 'clear', frame, ts),
      tlsBytes: (role, bytes, offset, frame, ts) => {
        this.fact.tls.encryptedBytes[role === 'client' ? 0 : 1] += bytes.length;
        this.tlsSink?.data(role, bytes, offset, frame, ts);
      },
      implicitTls: (role, frame) => this.implicitTls(role, frame),
      clearResumed: (role, offset, records, frame) => this.clearResumed(role, offset, records, frame),
      lost: (role, frame) => this.warnOnce(`lost-${role}`, `FTP control flow ${flow.index}: bytes missing inside TLS on the ${role}'s stream; the rest of it is unreadable`, frame),
    }, limits.maxHold);
  }

  /** The control channel is encrypted and nothing hands its text back: announcements are invisible. */
  get unreadable(): boolean {
    const unclear = this.stream ? this.stream.mode('server') !== 'clear' : this.endedUnclear;
    return unclear && this.fact.tls.decryptedLines === 0;
  }

  /** The control stream while the connection is open; reading after its end is a programming error. */
  private get control(): ControlStream {
    if (this.stream === null) throw new Error(`FTP control flow ${this.fact.flow}: read after its end`);
    return this.stream;
  }

  get peers(): ControlPeers {
    return { flow: this.fact.flow, client: this.fact.client, server: this.fact.server, serverPort: this.fact.serverPort };
  }

  // ---------------------------------------------------------------------------------------
  // StreamConsumer: the reassembled control connection

  data(dir: Dir, bytes: Buffer, offset: number, frameNo: number, ts: number): void {
    if (this.abandoned) return;
    this.control.data(dir === this.clientDir ? 'client' : 'server', bytes, offset, frameNo, ts);
  }

  gap(dir: Dir, offset: number, length: number, frameNo: number): void {
    if (this.abandoned) return;
    const role: Role = dir === this.clientDir ? 'client' : 'server';
    this.fact.gapBytes += length;
    this.control.gap(role, offset, length, frameNo);
    // A multi-line reply cut by missing bytes would swallow every later reply.
    if (role === 'server') this.replies = newReplyAssembler();
    this.warnOnce(`gap-${role}`, `FTP control flow ${this.flow.index}: ${length} bytes missing from the ${role}'s stream at offset ${offset}; commands and replies may be unpaired after it`, frameNo);
  }

  end(flow: Flow): void {
    if (this.ended) return;
    this.ended = true;
    this.fact.lastFrame = flow.lastFrame;
    this.fact.lastTs = flow.lastTs;
    if (this.abandoned) return;
    this.control.end(flow.lastFrame, flow.lastTs);
    for (const o of this.orphans.splice(0)) this.answer(o, false);
    const open = endReplies(this.replies);
    if (open) this.malformed(`FTP control flow ${flow.index}: ${open.reason}`, flow.lastFrame);
    for (const role of ROLES) if (this.control.mode(role) !== 'clear') this.tlsSink?.end(role, -1);
    if (this.control.holdOverflow) this.warnOnce('hold', `FTP control flow ${flow.index}: more than ${this.limits.maxHold} client bytes after AUTH before its reply; the excess was not read`, flow.lastFrame);
    // The session may wait a while to be stored (a few seconds for late data connections, until
    // its data connections have ended, or to the end without a store): what reading its streams
    // needed goes now, the fact stays.
    this.endedUnclear = this.control.mode('server') !== 'clear';
    this.stream = null;
    this.tlsSink = null;
    this.replies = newReplyAssembler();
    this.decrypted = { client: newLineSplitter(), server: newLineSplitter() };
  }

  // ---------------------------------------------------------------------------------------
  // DecryptedControlSink: text the TLS analyzer decrypted

  feedDecrypted(role: Role, bytes: Buffer, frame: number, ts: number): void {
    if (this.abandoned) return;
    for (const line of splitLines(this.decrypted[role], bytes)) this.line(role, line, 'decrypted', frame, ts);
  }

  feedDecryptedLine(role: Role, text: string, frame: number, ts: number): void {
    if (this.abandoned) return;
    this.line(role, { text, offset: -1, end: -1, eol: 'CRLF', truncated: false, telnet: false }, 'decrypted', frame, ts);
  }

  // ---------------------------------------------------------------------------------------
  // Lines

  private line(role: Role, line: FtpLine, via: LineVisibility, frame: number, ts: number): void {
    if (via === 'decrypted') this.fact.tls.decryptedLines++;
    if (role === 'client') {
      const cmd = parseCommand(line.text);
      if (cmd.kind === 'malformed') {
        if (this.tentative) { this.decide(false); return; }
        this.malformed(`FTP control flow ${this.flow.index}: client line is not a command (${cmd.reason}): "${line.text.slice(0, 60)}"`, frame);
        return;
      }
      if (this.tentative) {
        const verdict = dialogueVerdict(cmd);
        if (verdict === 'not-ftp') { this.decide(false); return; }
        if (verdict === 'ftp') this.decide(true);
      }
      this.command(cmd, via, frame, ts, via === 'clear' ? line.end : null);
      return;
    }
    const r = assembleReply(this.replies, line);
    if (r === null) return;
    if (r.kind === 'malformed') {
      if (this.tentative && !this.greetingDone) { this.decide(false); return; }
      this.malformed(`FTP control flow ${this.flow.index}: server line is not a reply (${r.reason}): "${r.line.slice(0, 60)}"`, frame);
      // "99 PASV invalid", "SYST not supported": still the server's answer to the pending command
      // (tshark shows it as the response). Lines starting with white space look like the rest of
      // a multi-line reply whose first line was lost, and answer nothing.
      const head = this.pending[0];
      if (head && this.greetingDone && !/^\s/.test(r.line) && (via === 'decrypted' || frame >= head.command.frame)) {
        this.pending.shift();
        head.command.final = { code: 0, text: r.line, multiline: false, frame, ts };
      }
      return;
    }
    this.reply(r, via, frame, ts);
  }

  private decide(isFtp: boolean): void {
    this.tentative = false;
    if (!isFtp) this.abandoned = true;
    this.hooks.decided(this, isFtp);
  }

  private command(cmd: FtpCommand, via: LineVisibility, frame: number, ts: number, lineEnd: number | null): void {
    const f = this.fact;
    const verb = cmd.verb;
    const seq = f.commandCount++;
    const arg = verb === 'PASS' && !this.limits.showPasswords ? null : cmd.arg;
    const command: FtpCommandFact = { seq, verb, arg, known: cmd.known, frame, ts, via, preliminary: null, final: null };
    if (f.commands.length < this.limits.maxCommands) f.commands.push(command);
    else {
      f.commandsDropped++;
      this.warnOnce('commands', `FTP control flow ${this.flow.index}: more than ${this.limits.maxCommands} commands; later ones are counted, not kept`, frame);
    }
    const p: Pending = { command, transfer: null, channel: null, lineEnd };
    switch (verb) {
      case 'USER':
        f.user = cmd.arg;
        f.userFrame = frame;
        f.userVia = via;
        f.login = 'pending';
        f.anonymous = false;
        break;
      case 'PASS':
        f.passFrame = frame;
        f.passVia = via;
        f.password = this.limits.showPasswords ? cmd.arg : null;
        break;
      case 'AUTH':
        f.tls.auth = (cmd.arg ?? '').trim().toUpperCase();
        f.tls.authFrame = frame;
        // What the client sends next is TLS only if the reply is 234: wait for it (RFC 4217 §4).
        if (lineEnd !== null) this.control.holdClientFrom(lineEnd);
        break;
      case 'PBSZ':
        f.tls.pbsz = { value: cmd.arg, frame, code: null };
        break;
      case 'PROT':
        f.tls.prot = { level: (cmd.arg ?? '').trim().toUpperCase(), frame, code: null, accepted: false };
        break;
      case 'PORT': case 'EPRT': case 'LPRT': {
        const ann = announcementFromCommand(verb, cmd.arg);
        if (ann && ann.kind !== 'malformed') p.channel = this.announce(ann, 'active', frame, ts, cmd.arg ?? '', seq, via);
        else if (ann) this.malformed(`FTP control flow ${this.flow.index}: ${verb} "${cmd.arg ?? ''}" not understood: ${ann.reason}`, frame);
        break;
      }
      default:
        if (responseUsesDataConnection(verb)) p.transfer = this.transfer(command, cmd.arg, p);
    }
    if (this.pending.length >= this.limits.maxPending) {
      this.pending.shift();
      this.warnOnce('pending', `FTP control flow ${this.flow.index}: more than ${this.limits.maxPending} commands without reply; the oldest are left unanswered`, frame);
    }
    this.pending.push(p);
    this.drainOrphans();
  }

  private transfer(command: FtpCommandFact, arg: string | null, p: Pending): FtpTransferFact {
    const last = this.lastChannel;
    const ch = last && last.fact.transfer === null && last.fact.accepted !== false ? last : null;
    if (ch) {
      ch.fact.transfer = command.seq;
      p.channel = ch;
    }
    const t: FtpTransferFact = {
      command: command.seq, verb: command.verb, name: arg, frame: command.frame, ts: command.ts, via: command.via,
      restOffset: this.restOffset, channel: ch ? ch.fact.id : null, preliminary: null, final: null, result: 'no-reply',
      bytes: null, durationUs: null,
    };
    this.restOffset = null;
    if (this.fact.transfers.length < this.limits.maxCommands) this.fact.transfers.push(t);
    return t;
  }


  private reply(r: FtpReply, via: LineVisibility, frame: number, ts: number): void {
    const reply: FtpReplyFact = { code: r.code, text: r.text, multiline: r.multiline, frame, ts };
    if (!this.greetingDone) {
      if (r.code === 120) { this.fact.greeting = reply; return; }
      this.greetingDone = true;
      if (r.code === 220 || (r.code === 421 && this.pending.length === 0)) { this.fact.greeting = reply; return; }
    }
    if (this.pending.length === 0) {
      // Either unsolicited (421 on idle timeout) or its command is still held up behind a hole in
      // the client's stream: decided when the next command comes (by frame order) or at the end.
      if (this.orphans.length >= this.limits.maxPending) this.answer(this.orphans.shift()!, false);
      this.orphans.push({ r, reply, via });
      return;
    }
    // A reply never precedes its command in the capture: one that does answers a command the
    // capture lost (a hole in the client's stream), and pairing it would shift every later pair.
    this.answer({ r, reply, via }, via === 'decrypted' || frame >= this.pending[0].command.frame);
  }

  private drainOrphans(): void {
    while (this.orphans.length > 0 && this.pending.length > 0) {
      const o = this.orphans.shift()!;
      this.answer(o, o.reply.frame >= this.pending[0].command.frame);
    }
  }

  private answer(o: Orphan, paired: boolean): void {
    const { r, reply, via } = o;
    const f = this.fact;
    const frame = reply.frame;
    const head = paired ? this.pending[0] : undefined;
    if (r.code < 200) {
      if (!head) { this.unsolicited(reply); return; }
      head.command.preliminary ??= reply;
      if (head.transfer) head.transfer.preliminary ??= reply;
      return;
    }
    if (head) this.pending.shift();
    else this.unsolicited(reply);
    if (r.code === 227 || r.code === 228 || r.code === 229) {
      const ann = announcementFromReply(r.code, r.text);
      if (ann && ann.kind !== 'malformed') this.announce(ann, 'passive', frame, reply.ts, r.text, head ? head.command.seq : null, via);
      else if (ann) this.malformed(`FTP control flow ${this.flow.index}: ${r.code} reply "${r.text.slice(0, 60)}" not understood: ${ann.reason}`, frame);
    }
    if (r.code === 234 && via === 'clear' && (head?.command.verb === 'AUTH' || this.control.holding)) {
      if (head) head.command.final = reply;
      f.tls.authReply = reply;
      this.startExplicitTls(this.control.holdStart ?? head?.lineEnd ?? null, r.endOffset, frame);
      return;
    }
    if (!head) return;
    head.command.final = reply;
    this.final(head, reply);
  }

  private unsolicited(reply: FtpReplyFact): void {
    if (this.fact.unsolicited.length < MAX_UNSOLICITED) this.fact.unsolicited.push(reply);
  }

  private final(p: Pending, reply: FtpReplyFact): void {
    const f = this.fact;
    const code = reply.code;
    switch (p.command.verb) {
      case 'USER':
        if (code === 230) this.loggedIn(reply);
        else if (code >= 400) { f.login = 'failed'; f.loginReply = reply; }
        break;
      case 'PASS': case 'ACCT':
        if (code === 230 || code === 202) this.loggedIn(reply);
        else if (code >= 400) { f.login = 'failed'; f.loginReply = reply; }
        break;
      case 'REIN':
        if (isPositive(code)) { f.login = 'none'; f.anonymous = false; }
        break;
      case 'AUTH':
        f.tls.authReply = reply;
        this.control.releaseHold();
        break;
      case 'PBSZ':
        if (f.tls.pbsz) f.tls.pbsz.code = code;
        break;
      case 'PROT':
        if (f.tls.prot) { f.tls.prot.code = code; f.tls.prot.accepted = isPositive(code); }
        break;
      case 'CCC':
        f.tls.ccc = { frame: p.command.frame, code, inferred: false, clearFromFrame: f.tls.ccc?.clearFromFrame ?? null };
        break;
      case 'REST':
        this.restOffset = code === 350 ? p.command.arg : null;
        break;
      case 'PORT': case 'EPRT': case 'LPRT':
        if (p.channel) {
          p.channel.fact.accepted = isPositive(code);
          p.channel.fact.acceptReply = reply;
          if (!p.channel.fact.accepted) this.closeWindow(p.channel, reply.frame);
        }
        break;
    }
    if (p.transfer) {
      p.transfer.final = reply;
      p.transfer.result = code >= 400 ? 'failed' : 'ok';
      if (p.channel) this.closeWindow(p.channel, reply.frame);
    }
  }

  private loggedIn(reply: FtpReplyFact): void {
    const f = this.fact;
    f.login = 'success';
    f.loginReply = reply;
    // RFC 1635: "anonymous" (and by long custom "ftp") is the guest account.
    f.anonymous = f.user !== null && /^(anonymous|ftp)$/i.test(f.user.trim());
  }

  // ---------------------------------------------------------------------------------------
  // Announcements

  private announce(ann: Announcement, mode: ChannelMode, frame: number, ts: number, text: string,
    command: number | null, via: LineVisibility): ChannelState | null {
    const f = this.fact;
    if (this.lastChannel) this.closeWindow(this.lastChannel, frame);
    if (f.channels.length >= this.limits.maxChannels) {
      f.channelsDropped++;
      this.warnOnce('channels', `FTP control flow ${this.flow.index}: more than ${this.limits.maxChannels} data-channel announcements; later ones are counted, not matched`, frame);
      this.lastChannel = null;
      return null;
    }
    const fact: FtpChannelFact = {
      id: f.channels.length, kind: ann.kind, mode, frame, ts,
      // RFC 2428 §3: EPSV names no address; the data connection goes to the control connection's server.
      announcedIp: ann.ip ?? f.server, announcedPort: ann.port, arithmetic: flatString(ann.arithmetic), text,
      command, accepted: mode === 'passive' ? true : null, acceptReply: null, via, transfer: null,
      connections: [], observed: null, outcome: 'not-captured', windowClosedFrame: null,
    };
    f.channels.push(fact);
    const ch: ChannelState = { fact, peers: this.peers, open: true, expires: ts + CHANNEL_WINDOW_US, control: this.flow };
    this.lastChannel = ch;
    this.hooks.announce(ch);
    return ch;
  }

  private closeWindow(ch: ChannelState, frame: number): void {
    if (!ch.open) return;
    ch.open = false;
    if (ch.fact.connections.length === 0) ch.fact.windowClosedFrame = frame;
    this.hooks.close(ch);
  }

  // ---------------------------------------------------------------------------------------
  // TLS

  private startExplicitTls(authLineEnd: number | null, replyEnd: number, frame: number): void {
    const from: TlsFrom = { offsetClient: authLineEnd ?? this.control.offset('client'), offsetServer: replyEnd, frame };
    this.control.startTls(from.offsetClient, from.offsetServer);
    this.tlsBegan(from, false);
  }

  private implicitTls(role: Role, frame: number): void {
    if (this.fact.tls.mode !== 'none') return;
    if (this.tentative) { this.decide(false); return; }
    const from: TlsFrom = {
      offsetClient: role === 'client' ? 0 : this.control.offset('client'),
      offsetServer: role === 'server' ? 0 : this.control.offset('server'),
      frame,
    };
    this.control.startTls(from.offsetClient, from.offsetServer);
    this.tlsBegan(from, true);
  }

  private tlsBegan(from: TlsFrom, implicit: boolean): void {
    const t = this.fact.tls;
    t.mode = implicit ? 'implicit' : 'explicit';
    t.tlsFrom = from;
    this.flow.app = 'ftps';
    this.tlsSink = this.hooks.tlsStart(this, from, implicit);
  }

  private clearResumed(role: Role, offset: number, records: number, frame: number): void {
    this.tlsSink?.end(role, offset);
    // Clear text after real TLS records is RFC 4217's CCC, readable or not; clear text right
    // where TLS should have started means the handshake never happened on that stream.
    if (records === 0) return;
    const t = this.fact.tls;
    if (t.ccc === null) t.ccc = { frame, code: null, inferred: true, clearFromFrame: frame };
    else t.ccc.clearFromFrame ??= frame;
  }

  // ---------------------------------------------------------------------------------------

  private malformed(message: string, frame: number): void {
    this.fact.malformedLines++;
    if (this.fact.malformedLines <= 3) this.hooks.warn(message, frame);
  }

  private warnOnce(key: string, message: string, frame: number | null): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.hooks.warn(message, frame);
  }

  /** The session's facts once the capture is done: channel outcomes and transfer sizes filled in. */
  finish(): FtpSessionFact {
    const t = this.fact.tls;
    t.partial = t.mode !== 'none' && t.decryptedLines === 0 && t.encryptedBytes[0] + t.encryptedBytes[1] > 0;
    settleChannels(this.fact);
    return this.fact;
  }
}
