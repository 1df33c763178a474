/**
 * One dated event of the export timeline. Every format (JSON lines, Timesketch, l2tcsv, the
 * reports) is a rendering of a list of these; `message` is raw text (renderers escape it).
 */
import type { Severity } from '../findings/types.js';
import type { FlowView } from './flows.js';
import { protoName } from './flows.js';
import type { Json } from './sqlite.js';

export type EventType = 'finding' | 'ftp' | 'tls' | 'nlb' | 'flow';

export interface TimelineEvent {
  /** µs since the epoch. */
  ts: number;
  type: EventType;
  /** What happened within the type, e.g. 'announcement', 'heartbeat-gap', or the finding code. */
  kind: string;
  /** What the timestamp means (Timesketch timestamp_desc, plaso type). */
  desc: string;
  message: string;
  frame: number | null;
  /** Evidence frames (the frame first). */
  frames: number[];
  flow: number | null;
  communityId: string | null;
  proto: string | null;
  src: string | null;
  srcPort: number | null;
  dst: string | null;
  dstPort: number | null;
  severity: Severity | null;
  /** 'failed' for outcomes that broke something, 'ok' for ones that worked, null otherwise. */
  outcome: 'ok' | 'failed' | null;
  session: number | null;
  user: string | null;
  /** The host the event is about (l2tcsv host column). */
  host: string | null;
  /** Relation keys ('session:0', 'flow:3', 'host:10.0.0.1') that tie events to findings. */
  keys: string[];
  /** The protocol object of the JSON line (`ftp`, `tls`, `nlb`, `flow`, `finding`). */
  data: Json;
}

export type EventDraft = Omit<TimelineEvent, 'flow' | 'communityId' | 'proto' | 'src' | 'srcPort' | 'dst' | 'dstPort' | 'frames' | 'severity' | 'outcome' | 'session' | 'user' | 'host'>
  & Partial<Pick<TimelineEvent, 'frames' | 'severity' | 'outcome' | 'session' | 'user' | 'host'>>;

/** Completes a draft with the 5-tuple and Community ID of the flow it happened on. */
export function onFlow(d: EventDraft, flow: FlowView | null): TimelineEvent {
  return {
    ...d,
    frames: d.frames ?? (d.frame !== null ? [d.frame] : []),
    severity: d.severity ?? null, outcome: d.outcome ?? null, session: d.session ?? null, user: d.user ?? null,
    host: d.host ?? flow?.src ?? null,
    flow: flow?.index ?? null, communityId: flow?.communityId ?? null, proto: flow ? protoName(flow.protocol) : null,
    src: flow?.src ?? null, srcPort: flow ? flow.srcPort : null, dst: flow?.dst ?? null, dstPort: flow ? flow.dstPort : null,
  };
}
