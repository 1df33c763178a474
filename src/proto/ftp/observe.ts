/**
 * What a data connection really did, read off the flow table's TCP bookkeeping once the flow
 * has ended: the handshake's fate (answered, refused by RST, ICMP error, silence), who sent
 * what, and when. Nothing of the payload is kept.
 */
import type { Flow } from '../../flow/flow.js';
import type { DataConnectionFact, DataConnectionState, MatchKind } from './facts.js';

export function newConnection(flow: Flow, matchedBy: MatchKind, clientIsInitiator: boolean): DataConnectionFact {
  const conn: DataConnectionFact = {
    flow: flow.index, matchedBy, src: flow.srcIp, srcPort: flow.srcPort, dst: flow.dstIp, dstPort: flow.dstPort,
    state: 'midstream', firstFrame: flow.firstFrame, lastFrame: flow.lastFrame, firstTs: flow.firstTs, lastTs: flow.lastTs,
    synFrame: null, synRetransmissions: 0, synAckFrame: null, rstFrame: null, rstFrom: null, icmp: [],
    bytes: [0, 0], bytesFromClient: 0, bytesFromServer: 0, tls: false, firstPayloadFrame: null,
  };
  observe(conn, flow, clientIsInitiator);
  return conn;
}

function stateOf(flow: Flow): DataConnectionState {
  const t = flow.tcp;
  if (!t || (!t.synSeen && !t.synAckSeen)) return 'midstream';
  if (t.synAckSeen) {
    // The final ACK can be missing from the capture while data flows: data proves the handshake.
    return t.handshakeComplete || flow.packets[0] > 1 || flow.payloadBytes[0] > 0 ? 'completed' : 'half-open';
  }
  if (flow.icmpErrors.length > 0) return 'icmp-unreachable';
  if (t.rstFrom !== -1) return 'refused';
  return 'syn-unanswered';
}

/** Refreshes a connection's record from its flow (called again when the flow ends). */
export function observe(conn: DataConnectionFact, flow: Flow, clientIsInitiator: boolean): void {
  const t = flow.tcp;
  conn.state = stateOf(flow);
  conn.lastFrame = flow.lastFrame;
  conn.lastTs = flow.lastTs;
  conn.synFrame = t && t.synSeen ? t.synFrame : null;
  conn.synRetransmissions = t ? t.synRetransmissions : 0;
  conn.synAckFrame = t && t.synAckSeen ? t.synAckFrame : null;
  conn.rstFrame = t && t.rstFrom !== -1 ? t.rstFrame : null;
  conn.rstFrom = !t || t.rstFrom === -1 ? null : t.rstFrom === 0 ? 'initiator' : 'responder';
  conn.icmp = flow.icmpErrors.slice(0, 8).map((e) => ({ frame: e.frame, ts: e.ts, reporter: e.reporter, type: e.type, code: e.code, version: e.version }));
  conn.bytes = [flow.payloadBytes[0], flow.payloadBytes[1]];
  conn.bytesFromClient = clientIsInitiator ? flow.payloadBytes[0] : flow.payloadBytes[1];
  conn.bytesFromServer = clientIsInitiator ? flow.payloadBytes[1] : flow.payloadBytes[0];
}
