import type { Packet } from '../decode/packet.js';
import type { Dir, Flow } from '../flow/flow.js';
import type { FlowTable } from '../flow/table.js';
import type { AnalysisContext, FactSet } from './context.js';

/** Units an analyzer let go of (see Analyzer.settle). */
export interface SettledFacts {
  /** The protocol module whose fact writer stores them (ProtocolModule.name). */
  protocol: string;
  /** Puts the units into their section of a FactSet whose protocol sections are otherwise empty. */
  fill(facts: FactSet): void;
  /**
   * Findings about these sessions (subject.session) belong to the settled units. Empty: the
   * units are only stored now; rules that group them across the capture (TLS handshakes per
   * server) take them as they come (Rule.tally) and draft their findings at the end.
   */
  sessions: Set<number>;
}

/**
 * A protocol analyzer owns protocol state and emits facts into the context. It sees only what
 * it asks for: layer-2 frames, new flows, first payloads (for detection by content) and the
 * reassembled streams it attached to.
 */
export interface Analyzer {
  readonly name: string;
  /** Every decoded frame, before flow tracking (ARP, IGMP, NLB heartbeats, flooding statistics). */
  frame?(pkt: Packet): void;
  flowStart?(flow: Flow, pkt: Packet, table: FlowTable): void;
  firstPayload?(flow: Flow, dir: Dir, payload: Buffer, pkt: Packet, table: FlowTable): void;
  flowEnd?(flow: Flow): void;
  /** TLS key material found in the capture itself (pcapng DSB "TLSK"). */
  secrets?(secretsType: number, data: Buffer): void;
  /**
   * Analysis into a store: the units (e.g. FTP sessions) that nothing later in the capture can
   * change any more at capture time `now` (µs). The analyzer forgets them, so its memory follows
   * the traffic in flight, not the size of the file; the caller judges and stores them at once.
   * A call hands over a batch at most; callers ask again until null. Whatever is not settled
   * comes out of finish() as before.
   */
  settle?(now: number): SettledFacts | null;
  /** End of the capture: flush state into facts. */
  finish?(): void;
}

export type AnalyzerFactory = (ctx: AnalysisContext) => Analyzer;
