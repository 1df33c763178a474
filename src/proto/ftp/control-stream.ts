/**
 * The two byte streams of one FTP control connection, by role, and what each carries at any
 * moment: clear lines, TLS records (after AUTH TLS + 234, or from the first byte for implicit
 * FTPS), or nothing readable after a gap inside TLS. Switches happen at exact stream offsets:
 * RFC 4217 §4 has TLS start with the first byte after the 234 reply (server) and after the AUTH
 * line (client), and clear text come back after CCC (found by walking record headers).
 */
import { endLines, newLineSplitter, splitLines, type FtpLine, type LineSplitter } from './control.js';
import { checkRecordHeader, newRecordWalker, walkRecords, type RecordWalker } from './tls-records.js';

export type Role = 'client' | 'server';
export const ROLES: readonly Role[] = ['client', 'server'];

export interface ControlStreamEvents {
  line(role: Role, line: FtpLine, frame: number, ts: number): void;
  /** Encrypted bytes, in order, from the role's TLS start offset on. */
  tlsBytes(role: Role, bytes: Buffer, offset: number, frame: number, ts: number): void;
  /** The first bytes of a role's stream are a TLS record: implicit FTPS. */
  implicitTls(role: Role, frame: number, ts: number): void;
  /** After TLS, a record header was expected at `offset` but clear text came (CCC). */
  clearResumed(role: Role, offset: number, records: number, frame: number, ts: number): void;
  /** TLS framing lost after a gap: nothing more is readable on that role's stream. */
  lost(role: Role, frame: number): void;
}

type Mode = 'clear' | 'tls' | 'lost';

interface RoleState {
  mode: Mode;
  splitter: LineSplitter;
  walker: RecordWalker | null;
  /** Bumped on every mode change, so the line loop knows the rest of a chunk needs another path. */
  epoch: number;
  /** Next stream offset this role expects (gaps included). */
  next: number;
}

interface HeldChunk { bytes: Buffer; offset: number; frame: number; ts: number }

function splitterAt(offset: number): LineSplitter {
  const s = newLineSplitter();
  s.consumed = offset;
  s.lineStart = offset;
  return s;
}

export class ControlStream {
  private roles: Record<Role, RoleState> = {
    client: { mode: 'clear', splitter: newLineSplitter(), walker: null, epoch: 0, next: 0 },
    server: { mode: 'clear', splitter: newLineSplitter(), walker: null, epoch: 0, next: 0 },
  };
  /** Client bytes after an AUTH line, kept until its reply says whether they are TLS. */
  private hold: { from: number; chunks: HeldChunk[]; bytes: number } | null = null;
  holdOverflow = false;

  constructor(private events: ControlStreamEvents, private maxHold: number) {}

  mode(role: Role): Mode {
    return this.roles[role].mode;
  }

  /** Where the next byte of a role's stream would sit. */
  offset(role: Role): number {
    return this.roles[role].next;
  }

  /** Client bytes from `offset` wait for the AUTH reply. */
  holdClientFrom(offset: number): void {
    if (this.hold) return;
    this.hold = { from: offset, chunks: [], bytes: 0 };
    this.roles.client.epoch++;
  }

  get holding(): boolean {
    return this.hold !== null;
  }

  /** Offset from which client bytes are held, or null. */
  get holdStart(): number | null {
    return this.hold ? this.hold.from : null;
  }

  /** The AUTH was refused (or never answered): held bytes are clear text after all. */
  releaseHold(): void {
    const h = this.hold;
    if (!h) return;
    this.hold = null;
    const c = this.roles.client;
    c.splitter = splitterAt(h.from);
    c.epoch++;
    for (const k of h.chunks) this.consume('client', k.bytes, k.offset, k.frame, k.ts);
  }

  /** TLS from these offsets on (held client bytes are replayed as TLS). */
  startTls(offsetClient: number, offsetServer: number): void {
    for (const role of ROLES) {
      const st = this.roles[role];
      st.mode = 'tls';
      st.walker = newRecordWalker(role === 'client' ? offsetClient : offsetServer);
      st.epoch++;
    }
    const h = this.hold;
    this.hold = null;
    if (h) for (const k of h.chunks) this.consume('client', k.bytes, k.offset, k.frame, k.ts);
  }

  data(role: Role, bytes: Buffer, offset: number, frame: number, ts: number): void {
    this.consume(role, bytes, offset, frame, ts);
  }

  gap(role: Role, offset: number, length: number, frame: number): void {
    const st = this.roles[role];
    st.next = offset + length;
    if (role === 'client' && this.hold) {
      // The AUTH reply decides what held bytes were; with bytes missing neither reading is safe.
      this.hold = null;
      st.epoch++;
    }
    if (st.mode === 'clear') {
      st.splitter = splitterAt(offset + length);
    } else if (st.mode === 'tls') {
      // Record boundaries cannot be found again once bytes are missing.
      st.mode = 'lost';
      st.epoch++;
      this.events.lost(role, frame);
    }
  }

  /** End of the flow: the unterminated last line of each clear stream, held bytes as clear. */
  end(frame: number, ts: number): void {
    if (this.hold) this.releaseHold();
    for (const role of ROLES) {
      const st = this.roles[role];
      if (st.mode !== 'clear') continue;
      const last = endLines(st.splitter);
      if (last) this.events.line(role, last, frame, ts);
    }
  }

  private consume(role: Role, bytes: Buffer, offset: number, frame: number, ts: number): void {
    const st = this.roles[role];
    let i = 0;
    while (i < bytes.length) {
      const at = offset + i;
      const piece = i === 0 ? bytes : bytes.subarray(i);
      st.next = at + piece.length;
      if (st.mode === 'lost') return;
      if (role === 'client' && this.hold) {
        this.keep(piece, at, frame, ts);
        return;
      }
      if (st.mode === 'tls') {
        const w = st.walker!;
        const resume = walkRecords(w, piece);
        const tlsLen = resume ? resume.index : piece.length;
        if (tlsLen > 0) this.events.tlsBytes(role, piece.subarray(0, tlsLen), at, frame, ts);
        if (!resume) return;
        st.mode = 'clear';
        st.walker = null;
        st.splitter = splitterAt(resume.offset);
        st.epoch++;
        this.events.clearResumed(role, resume.offset, w.records, frame, ts);
        for (const line of splitLines(st.splitter, resume.carried)) this.events.line(role, line, frame, ts);
        i += resume.index;
        continue;
      }
      if (at === 0 && checkRecordHeader(piece) !== 'invalid' && piece[0] === 22) {
        // A handshake record as the very first bytes: implicit FTPS (port 990; MS-FTPS has the
        // client start TLS at once and the 220 greeting come only after the handshake).
        this.events.implicitTls(role, frame, ts);
        if (st.mode !== 'clear') continue;
      }
      const epoch = st.epoch;
      const lines = splitLines(st.splitter, piece);
      let switchedAt = -1;
      for (const line of lines) {
        this.events.line(role, line, frame, ts);
        if (st.epoch !== epoch || (role === 'client' && this.hold)) { switchedAt = line.end; break; }
      }
      if (switchedAt < 0) return;
      i = switchedAt - offset;
    }
  }

  private keep(piece: Buffer, at: number, frame: number, ts: number): void {
    const h = this.hold!;
    if (h.bytes + piece.length > this.maxHold) {
      this.holdOverflow = true;
      return;
    }
    h.chunks.push({ bytes: Buffer.from(piece), offset: at, frame, ts });
    h.bytes += piece.length;
  }
}
