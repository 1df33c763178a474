/**
 * The `compare --json` document: the `analyze --json` document of both captures (captures,
 * findings, ftp, tls, nlb) with the compare findings (FTP_ADDRESS_REWRITTEN) added to
 * `findings`, plus a `compare` key: which capture is inside, the clock offset, the paired
 * sessions and announcements, the NAT mappings and the packets missing on one side.
 */
import type { Db } from '../store/db.js';
import { analysisDocument, isoTime } from '../store/queries.js';
import { PROTOCOLS } from '../protocols.js';
import type { Finding } from '../findings/types.js';
import { rewriteFinding, type AnnouncementSide, type RewrittenLine } from '../findings/rules/ftp-address-rewritten.js';
import type { ChannelPair } from './channels.js';
import { compareCaptures, DEFAULT_WINDOW_SECONDS, type Comparison } from './compare.js';
import type { FlowPair } from './flows.js';
import { loadCapture } from './load.js';
import { natRules, translationText, type FlowMapping } from './mappings.js';
import { findMissing, flowsNeedingDetail, type MissingPackets } from './missing.js';
import { endpointText, protocolName, type CaptureView, type ChannelRecord, type FlowRecord, type SessionRecord, type Side } from './model.js';
import type { PacketDetail } from './packets.js';
import type { SessionPair } from './pairing.js';
import { sequenceShift } from './seqshift.js';

export interface ComparePacketDetail { inside: PacketDetail | null; outside: PacketDetail | null }

export interface CompareDocumentOptions {
  /** How far apart (after the clock offset) the same session may start in the two captures; default 2 s. */
  windowSeconds?: number;
  showPasswords?: boolean;
  /** Packet-level detail read from the capture files (exact missing frames, sequence shifts); flow counts only without it. */
  detail?: ComparePacketDetail;
}

/** Commands per pair, and other long lists, listed in the document (the counts are always complete). */
const MAX_LISTED = 200;
const NO_DETAIL: ComparePacketDetail = { inside: null, outside: null };

function controlPair(cmp: Comparison, sp: SessionPair): FlowPair | undefined {
  return cmp.flows.find((f) => f.role === 'control' && f.inside.index === sp.inside.flow && f.outside.index === sp.outside.flow);
}

/** The flows whose packets the CLI should read from the files before building the document. */
export function flowsForDetail(cmp: Comparison): { inside: FlowRecord[]; outside: FlowRecord[] } {
  const need = flowsNeedingDetail({ inside: cmp.inside, outside: cmp.outside, pairs: cmp.flows, mappings: cmp.mappings, hosts: cmp.hosts, offsetUs: cmp.offset.us });
  for (const sp of cmp.sessions.pairs) {
    if (!(cmp.channels.get(sp) ?? []).some((c) => c.rewritten)) continue;
    const fp = controlPair(cmp, sp);
    if (fp) { need.inside.push(fp.inside); need.outside.push(fp.outside); }
  }
  return { inside: [...new Set(need.inside)], outside: [...new Set(need.outside)] };
}

function announcementSide(s: SessionRecord, ch: ChannelRecord): AnnouncementSide {
  return {
    capture: s.capture, session: s.flow, client: s.client, clientPort: s.clientPort, server: s.server, serverPort: s.serverPort,
    channel: ch.id, frame: ch.frame, ts: ch.ts, text: ch.text, announcedIp: ch.announcedIp, announcedPort: ch.announcedPort,
  };
}

export function rewrittenLines(cmp: Comparison, detail: ComparePacketDetail): Array<{ pair: SessionPair; lines: RewrittenLine[] }> {
  const out: Array<{ pair: SessionPair; lines: RewrittenLine[] }> = [];
  for (const sp of cmp.sessions.pairs) {
    const control = controlPair(cmp, sp);
    const lines = (cmp.channels.get(sp) ?? []).filter((c) => c.rewritten).map((c): RewrittenLine => ({
      kind: c.inside.kind, mode: c.inside.mode, inside: announcementSide(sp.inside, c.inside), outside: announcementSide(sp.outside, c.outside),
      lengthDelta: c.lengthDelta, sequenceShift: control ? sequenceShift(sp, c, control, detail) : null,
    }));
    if (lines.length > 0) out.push({ pair: sp, lines });
  }
  return out;
}

function captureRef(v: CaptureView): Record<string, unknown> {
  return { capture: v.id, name: v.name, file: v.file, frames: v.frames, firstTs: isoTime(v.firstTs), lastTs: isoTime(v.lastTs) };
}

function sessionRef(s: SessionRecord): Record<string, unknown> {
  return {
    session: s.flow, flow: s.flow, client: s.client, clientPort: s.clientPort, server: s.server, serverPort: s.serverPort,
    firstFrame: s.firstFrame, firstTs: isoTime(s.firstTs), commands: s.commandCount, tls: s.tlsMode,
  };
}

function channelJson(ch: ChannelRecord): Record<string, unknown> {
  return { channel: ch.id, frame: ch.frame, text: ch.text, announcedIp: ch.announcedIp, announcedPort: ch.announcedPort, outcome: ch.outcome, dataFlows: ch.connections };
}

function channelPairJson(c: ChannelPair): Record<string, unknown> {
  return { kind: c.inside.kind, mode: c.inside.mode, rewritten: c.rewritten, lengthDelta: c.lengthDelta, inside: channelJson(c.inside), outside: channelJson(c.outside) };
}

function clientSide(cmp: Comparison, sp: SessionPair): Side | null {
  const fp = controlPair(cmp, sp);
  const m = fp ? cmp.mappings.find((x) => x.pair === fp) : undefined;
  if (m?.initiatorSide && fp) {
    const clientInitiated = fp.inside.src === sp.inside.client && fp.inside.srcPort === sp.inside.clientPort;
    return clientInitiated ? m.initiatorSide : m.initiatorSide === 'inside' ? 'outside' : 'inside';
  }
  if (sp.clientLeadUs !== null && Math.abs(sp.clientLeadUs) >= 1) return sp.clientLeadUs > 0 ? 'inside' : 'outside';
  return null;
}

function pairJson(cmp: Comparison, sp: SessionPair): Record<string, unknown> {
  return {
    inside: sessionRef(sp.inside), outside: sessionRef(sp.outside), basis: sp.basis, score: Math.round(sp.score * 1000) / 1000,
    tokens: sp.tokens, offsetUs: Math.round(sp.offsetUs), clientSide: clientSide(cmp, sp),
    commands: sp.commands.slice(0, MAX_LISTED).map(([a, b]) => ({
      verb: a.verb, reply: a.replyCode, inside: { seq: a.seq, frame: a.frame, replyFrame: a.replyFrame }, outside: { seq: b.seq, frame: b.frame, replyFrame: b.replyFrame },
    })),
    channels: (cmp.channels.get(sp) ?? []).map(channelPairJson),
  };
}

function flowEnd(f: FlowRecord): Record<string, unknown> {
  return { flow: f.index, src: f.src, srcPort: f.srcPort, dst: f.dst, dstPort: f.dstPort, firstFrame: f.firstFrame, firstTs: isoTime(f.firstTs), packets: f.packets, state: f.state };
}

function mappingJson(m: FlowMapping): Record<string, unknown> {
  const p = m.pair;
  return {
    kind: m.kind, role: p.role, basis: p.basis, session: p.session, protocol: protocolName(p.inside.protocol), reversed: p.reversed,
    initiatorSide: m.initiatorSide, initiatorBasis: m.initiatorBasis,
    inside: flowEnd(p.inside), outside: flowEnd(p.outside),
    translations: m.translations.map((t) => ({ ...t, text: translationText(t) })),
  };
}

const VERDICT_TEXT: Record<MissingPackets['verdict'], string> = {
  'dropped-between': 'dropped between the two captures (by the router: firewall rule, no NAT rule or no route for them)',
  'not-captured-on-ingress': 'sent from the other side but never seen arriving there: that capture missed them, or the router sent them itself',
  unknown: 'which side sent them is unknown: dropped in between or missed by a capture',
};

export function missingText(m: MissingPackets): string {
  const f = m.flow;
  const [from, to] = m.dir === 0 ? [endpointText(f.src, f.srcPort), endpointText(f.dst, f.dstPort)] : [endpointText(f.dst, f.dstPort), endpointText(f.src, f.srcPort)];
  const what = m.syn && m.count === 1 ? 'the SYN' : m.syn ? `${m.count} packets (SYN included)` : `${m.count} packet${m.count === 1 ? '' : 's'}`;
  const frames = m.frames.length ? ` (${m.seenOn} frame${m.frames.length > 1 ? 's' : ''} ${m.frames.join(', ')}${m.framesExact ? '' : ', approximate'})` : '';
  const whole = m.counterpart ? `of ${protocolName(f.protocol)} flow ${f.index}` : `of ${protocolName(f.protocol)} flow ${f.index}, a connection the ${m.missingOn} capture does not have at all,`;
  const refused = f.state === 'rejected' ? `; a reset answered it on the ${m.seenOn} side` : '';
  const e = m.expectedAs;
  const would = e?.translated ? ` (${m.missingOn} it would have read ${endpointText(e.src, e.srcPort)} → ${endpointText(e.dst, e.dstPort)})` : '';
  return `${what} ${from} → ${to}${frames} ${whole} seen ${m.seenOn}, not ${m.missingOn}${would}: ${VERDICT_TEXT[m.verdict]}${refused}${m.partial ? ' (the other capture does not cover the whole connection)' : ''}.`;
}

function missingJson(m: MissingPackets): Record<string, unknown> {
  const f = m.flow;
  const [from, to] = m.dir === 0 ? [[f.src, f.srcPort], [f.dst, f.dstPort]] as const : [[f.dst, f.dstPort], [f.src, f.srcPort]] as const;
  return {
    seenOn: m.seenOn, missingOn: m.missingOn, verdict: m.verdict, senderSide: m.senderSide,
    flow: { capture: f.capture, flow: f.index, protocol: protocolName(f.protocol), src: f.src, srcPort: f.srcPort, dst: f.dst, dstPort: f.dstPort, state: f.state },
    counterpart: m.counterpart ? { capture: m.counterpart.capture, flow: m.counterpart.index } : null,
    direction: m.dir === 0 ? 'initiator→responder' : 'responder→initiator',
    from: { ip: from[0], port: from[1] }, to: { ip: to[0], port: to[1] },
    packets: m.count, syn: m.syn, frames: m.frames, framesExact: m.framesExact, partial: m.partial, expectedAs: m.expectedAs,
    firstTs: isoTime(m.firstTs), lastTs: isoTime(m.lastTs), text: missingText(m),
  };
}

export interface CompareResult {
  /** The compare findings (FTP_ADDRESS_REWRITTEN), filed under the inside capture. */
  findings: Finding[];
  missing: MissingPackets[];
  /** Connections seen and answered on one side only: ended at the router, or their twin was not recognised. */
  answered: number;
  section: Record<string, unknown>;
}

/** The `compare` key and the compare findings for a comparison (with packet detail when the files were read). */
export function compareResult(cmp: Comparison, detail: ComparePacketDetail = NO_DETAIL): CompareResult {
  const rewrites = rewrittenLines(cmp, detail);
  const findings = rewrites.map((r) => rewriteFinding(r.lines));
  const { missing, answered } = findMissing({ inside: cmp.inside, outside: cmp.outside, pairs: cmp.flows, mappings: cmp.mappings, hosts: cmp.hosts, offsetUs: cmp.offset.us, detail });
  const span = (v: CaptureView, shift: number): [number, number] | null => v.firstTs === null || v.lastTs === null ? null : [v.firstTs + shift, v.lastTs + shift];
  const a = span(cmp.inside, 0), b = span(cmp.outside, -cmp.offset.us);
  const overlap = a && b && Math.max(a[0], b[0]) <= Math.min(a[1], b[1]) ? { from: isoTime(Math.max(a[0], b[0])), to: isoTime(Math.min(a[1], b[1])), clock: 'inside' } : null;
  const section: Record<string, unknown> = {
    arguments: { first: captureRef(cmp.first), second: captureRef(cmp.second) },
    inside: captureRef(cmp.inside), outside: captureRef(cmp.outside), sameCapture: cmp.same,
    roles: { verdict: cmp.roles.verdict, swapped: cmp.roles.verdict === 'swapped', determined: cmp.roles.verdict !== 'unknown', basis: cmp.roles.basis, evidence: cmp.roles.evidence },
    clock: { offsetUs: Math.round(cmp.offset.us), basis: cmp.offset.basis, samples: cmp.offset.samples, meaning: 'outside time − inside time of the same packet' },
    windowSeconds: cmp.windowUs / 1e6,
    overlap,
    packetDetail: detail.inside !== null && detail.outside !== null,
    pairs: cmp.sessions.pairs.map((sp) => pairJson(cmp, sp)),
    unpaired: { inside: cmp.sessions.unpairedInside.map(sessionRef), outside: cmp.sessions.unpairedOutside.map(sessionRef) },
    rewrites: rewrites.flatMap((r) => r.lines.map((l) => ({ session: { inside: r.pair.inside.flow, outside: r.pair.outside.flow }, kind: l.kind, mode: l.mode,
      inside: { frame: l.inside.frame, text: l.inside.text, announcedIp: l.inside.announcedIp, announcedPort: l.inside.announcedPort },
      outside: { frame: l.outside.frame, text: l.outside.text, announcedIp: l.outside.announcedIp, announcedPort: l.outside.announcedPort },
      lengthDelta: l.lengthDelta, sequenceShift: l.sequenceShift }))),
    mappings: cmp.mappings.map(mappingJson),
    nat: natRules(cmp.mappings).map((r) => ({ ...r, text: `${r.kind} ${r.from} → ${r.to}` })),
    missing: missing.map(missingJson),
    oneSidedAnswered: answered.slice(0, MAX_LISTED).map((a) => ({ seenOn: a.seenOn, ...flowEnd(a.flow), protocol: protocolName(a.flow.protocol) })),
    counts: {
      pairs: cmp.sessions.pairs.length, unpairedInside: cmp.sessions.unpairedInside.length, unpairedOutside: cmp.sessions.unpairedOutside.length,
      rewrites: rewrites.reduce((n, r) => n + r.lines.length, 0), flowsPaired: cmp.flows.length,
      translated: cmp.mappings.filter((m) => m.kind !== 'none').length, missingPackets: missing.reduce((n, m) => n + m.count, 0),
      oneSidedAnswered: answered.length,
    },
  };
  return { findings, missing, answered: answered.length, section };
}

/** The whole `compare --json` document for two stored captures of a comparison. */
export function comparisonDocument(db: Db, cmp: Comparison, opts: CompareDocumentOptions = {}): Record<string, unknown> {
  const ids = [...new Set([cmp.inside.id, cmp.outside.id])];
  const doc = analysisDocument(db, ids, { showPasswords: opts.showPasswords }, PROTOCOLS.map((p) => p.document));
  const result = compareResult(cmp, opts.detail ?? NO_DETAIL);
  const extra = result.findings.map((f) => ({ id: null, capture: cmp.inside.id, compare: { inside: cmp.inside.id, outside: cmp.outside.id }, ...f, firstTs: isoTime(f.firstTs) }));
  doc.findings = [...(doc.findings as unknown[]), ...extra];
  doc.compare = result.section;
  return doc;
}

export class CompareInputError extends Error {}

/**
 * For the web server (/api/compare): the document for two stored captures, from SQLite alone.
 * Without the capture files there is no packet detail: missing packets come from per-flow
 * counts and sequence shifts are not shown. Throws CompareInputError for an unknown capture id.
 */
export function compareDocument(db: Db, insideCaptureId: number, outsideCaptureId: number, opts: CompareDocumentOptions = {}): Record<string, unknown> {
  const a = loadCapture(db, insideCaptureId), b = loadCapture(db, outsideCaptureId);
  if (!a) throw new CompareInputError(`no complete capture with id ${insideCaptureId}`);
  if (!b) throw new CompareInputError(`no complete capture with id ${outsideCaptureId}`);
  const cmp = compareCaptures(a, b, opts.windowSeconds ?? DEFAULT_WINDOW_SECONDS);
  return comparisonDocument(db, cmp, opts);
}
