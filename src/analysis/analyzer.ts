import type { Packet } from '../decode/packet.js';
import type { Dir, Flow } from '../flow/flow.js';
import type { FlowTable } from '../flow/table.js';
import type { AnalysisContext } from './context.js';

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
  /** End of the capture: flush state into facts. */
  finish?(): void;
}

export type AnalyzerFactory = (ctx: AnalysisContext) => Analyzer;
