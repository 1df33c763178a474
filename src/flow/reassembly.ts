/**
 * In-order byte stream of one TCP direction (RFC 9293 sequence space, modulo 2^32).
 *
 * Retransmissions and overlaps are trimmed, reordered segments wait in a bounded buffer, and a
 * hole that never fills is recorded as a gap (the consumer is told how many bytes are missing)
 * rather than papered over. The out-of-order buffer is capped; hitting the cap forces the gap.
 */
export interface StreamSink {
  /** Bytes in order. `offset` counts bytes of this direction's stream, gaps included. */
  data(bytes: Buffer, offset: number, frameNo: number, ts: number): void;
  /** `length` bytes at `offset` were never captured. */
  gap(offset: number, length: number, frameNo: number): void;
}

/**
 * A segment waiting for the bytes before it, or (`missing` > 0, no data) the uncaptured tail of
 * a snaplen-cut segment: a gap to report in its place, so later bytes do not wait behind it.
 */
interface Pending { seq: number; data: Buffer; frameNo: number; ts: number; missing: number }

const NO_BYTES = Buffer.alloc(0);

/** Signed distance a - b in sequence space. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

export class DirectionStream {
  /** Next sequence number expected; -1 until the stream's start is known. */
  nextSeq = -1;
  /** Bytes delivered or skipped as gaps so far. */
  offset = 0;
  gapBytes = 0;
  retransmittedBytes = 0;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  capHit = false;
  closed = false;

  constructor(private sink: StreamSink, private maxPending: number) {}

  /** The SYN fixes the initial sequence number: data starts at isn+1. */
  syn(isn: number): void {
    if (this.nextSeq === -1) this.nextSeq = (isn + 1) >>> 0;
  }

  /**
   * `declaredLength` is the segment's length per its IP header: when the snaplen cut the
   * segment, the uncaptured tail becomes a gap instead of vanishing.
   */
  segment(seq: number, payload: Buffer, frameNo: number, ts: number, declaredLength = payload.length): void {
    if (declaredLength > payload.length) {
      this.segment(seq, payload, frameNo, ts);
      this.missing((seq + payload.length) >>> 0, declaredLength - payload.length, frameNo);
      return;
    }
    if (payload.length === 0 || this.closed) return;
    if (this.nextSeq === -1) this.nextSeq = seq; // joined mid-stream: start at the first byte seen
    const d = seqDiff(seq, this.nextSeq);
    if (d <= 0) {
      const overlap = -d;
      if (overlap >= payload.length) { this.retransmittedBytes += payload.length; return; }
      this.retransmittedBytes += overlap;
      this.deliver(payload.subarray(overlap), frameNo, ts);
      this.drain();
      return;
    }
    // Ahead of what we expect: keep a copy (the frame buffer is reused by the reader).
    this.insertPending({ seq, data: Buffer.from(payload), frameNo, ts, missing: 0 });
    this.checkCap(frameNo);
  }

  private checkCap(frameNo: number): void {
    if (this.pendingBytes > this.maxPending) {
      this.capHit = true;
      this.skipToPending(frameNo);
    }
  }

  /**
   * Bytes known to exist but not captured (snaplen): a gap now if they are next, a gap marker
   * waiting in sequence order if they are ahead (they count against the cap like waiting bytes).
   */
  private missing(seq: number, length: number, frameNo: number): void {
    if (this.closed) return;
    if (this.nextSeq === -1) this.nextSeq = seq;
    const d = seqDiff(seq, this.nextSeq);
    if (d > 0) {
      this.insertPending({ seq, data: NO_BYTES, frameNo, ts: 0, missing: length });
      this.checkCap(frameNo);
      return;
    }
    if (length + d <= 0) return;
    this.skip(length + d, frameNo);
    this.drain();
  }

  private skip(length: number, frameNo: number): void {
    this.sink.gap(this.offset, length, frameNo);
    this.offset += length;
    this.gapBytes += length;
    this.nextSeq = (this.nextSeq + length) >>> 0;
  }

  /**
   * Moves the start forward to `seq` (a consumer attached late): the bytes skipped are one gap.
   * Does nothing when `seq` is not ahead of what is expected.
   */
  skipTo(seq: number, frameNo: number): void {
    if (this.nextSeq === -1 || this.closed) return;
    const d = seqDiff(seq, this.nextSeq);
    if (d <= 0) return;
    this.skip(d, frameNo);
    this.drain();
  }

  /**
   * The peer acknowledged up to `ack`. When bytes beyond a hole are already waiting and the
   * peer acknowledges past the hole's start, the hole was sent and lost by the capture, not
   * late: declare it now instead of stalling the stream until the cap or the end. Without
   * waiting bytes nothing happens, so a capture that shows an ACK before its data loses nothing.
   */
  acked(ack: number, frameNo: number): void {
    while (this.pending.length > 0 && !this.closed && this.nextSeq !== -1 && seqDiff(ack, this.nextSeq) > 0) {
      const before = this.offset;
      this.skipToPending(frameNo);
      if (this.offset === before) return;
    }
  }

  /** End of stream (FIN/RST/capture end): whatever still waits goes out behind gaps. */
  flush(frameNo: number): void {
    while (this.pending.length > 0) this.skipToPending(frameNo);
  }

  private deliver(bytes: Buffer, frameNo: number, ts: number): void {
    this.sink.data(bytes, this.offset, frameNo, ts);
    this.offset += bytes.length;
    this.nextSeq = (this.nextSeq + bytes.length) >>> 0;
  }

  private drain(): void {
    while (this.pending.length > 0) {
      const p = this.pending[0];
      const d = seqDiff(p.seq, this.nextSeq);
      if (d > 0) return;
      this.pending.shift();
      this.pendingBytes -= p.data.length + p.missing;
      const overlap = -d;
      if (p.missing > 0) {
        if (p.missing > overlap) this.skip(p.missing - overlap, p.frameNo);
        continue;
      }
      if (overlap >= p.data.length) { this.retransmittedBytes += p.data.length; continue; }
      this.retransmittedBytes += overlap;
      this.deliver(p.data.subarray(overlap), p.frameNo, p.ts);
    }
  }

  private skipToPending(frameNo: number): void {
    const first = this.pending[0];
    const missing = seqDiff(first.seq, this.nextSeq);
    if (missing > 0) this.skip(missing, frameNo);
    this.drain();
  }

  private insertPending(p: Pending): void {
    const list = this.pending;
    let i = list.length;
    // Sorted by sequence number; at equal numbers real bytes go before a gap marker, so they win.
    while (i > 0 && (seqDiff(list[i - 1].seq, p.seq) > 0 || (list[i - 1].seq === p.seq && list[i - 1].missing > p.missing))) i--;
    if (i > 0 && list[i - 1].seq === p.seq && list[i - 1].missing === p.missing && list[i - 1].data.length >= p.data.length) {
      this.retransmittedBytes += p.data.length; // duplicate of a segment (or marker) already waiting
      return;
    }
    list.splice(i, 0, p);
    this.pendingBytes += p.data.length + p.missing;
  }
}
