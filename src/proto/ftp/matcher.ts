/**
 * Ties data connections to the announcements that asked for them. A new TCP flow is matched
 * against the open announcements for its destination port: first to the announced address,
 * then to the control connection's peer address on that port (the client ignored the PASV
 * address, e.g. curl --ftp-skip-pasv-ip, or NAT changed it). The expected initiator is the FTP
 * client for passive mode and the server for active mode; a connection to the announced
 * address from elsewhere still matches (and is evidence of a source mismatch). Flows that start
 * a moment before their announcement is read (capture reordering) are caught by a short look-back.
 * Data connections are counted, never buffered.
 */
import type { Dir, Flow } from '../../flow/flow.js';
import { addConnection, channelExpiry, type ChannelState } from './channel.js';
import type { DataConnectionFact, FtpChannelFact, MatchKind } from './facts.js';
import { newConnection, observe } from './observe.js';
import { startsWithTlsHandshake } from './tls-records.js';
import { isPrivateAddress } from './portmath.js';

/** How far before an announcement a connection may start and still be its own (capture reordering). */
const LOOKBACK_US = 2e6;
const RECENT_FLOWS = 256;

interface Tracked { conn: DataConnectionFact; clientIsInitiator: boolean }
interface Recent { flow: Flow; reversible: boolean; firstPayload: { frame: number; tls: boolean } | null }
interface Hit { ch: ChannelState; kind: MatchKind; reversed: boolean }

/** A session whose announcements cannot be read claims connections between its two hosts instead. */
export interface EncryptedClaim {
  add(conn: DataConnectionFact): void;
  clientAddress: string;
}

export class DataChannelMatcher {
  private byPort = new Map<number, ChannelState[]>();
  private tracked = new Map<number, Tracked>();
  private recent = new Map<number, Recent>();

  constructor(private encryptedSession: (flow: Flow) => EncryptedClaim | null) {}

  /** An announcement was read: wait for its connection, and look at flows that just started. */
  announce(ch: ChannelState): void {
    const port = ch.fact.announcedPort;
    const list = this.byPort.get(port);
    if (list) list.push(ch);
    else this.byPort.set(port, [ch]);
    for (const r of this.recent.values()) {
      if (r.flow.firstTs < ch.fact.ts - LOOKBACK_US) continue;
      const hit = this.fit(ch, r.flow, false) ?? (r.reversible ? this.fit(ch, r.flow, true) : null);
      if (!hit) continue;
      this.recent.delete(r.flow.index);
      const t = this.claim(r.flow, hit);
      if (t && r.firstPayload) { t.conn.firstPayloadFrame = r.firstPayload.frame; t.conn.tls = r.firstPayload.tls; }
      if (t && r.flow.ended) { observe(t.conn, r.flow, t.clientIsInitiator); this.tracked.delete(r.flow.index); }
    }
  }

  close(ch: ChannelState): void {
    const list = this.byPort.get(ch.fact.announcedPort);
    if (!list) return;
    const i = list.indexOf(ch);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byPort.delete(ch.fact.announcedPort);
  }

  /**
   * A new TCP flow; true when it is a data connection. `startedWithSyn` false means the capture
   * joined it mid-way, so its initiator is unknown and both orientations are tried.
   */
  flowStart(flow: Flow, startedWithSyn: boolean): boolean {
    const hit = this.find(flow, false) ?? (startedWithSyn ? null : this.find(flow, true));
    if (hit) { this.claim(flow, hit); return true; }
    const enc = this.encryptedSession(flow);
    if (enc) {
      const clientIsInitiator = flow.srcIp === enc.clientAddress;
      const conn = newConnection(flow, 'encrypted-session', clientIsInitiator);
      enc.add(conn);
      this.tracked.set(flow.index, { conn, clientIsInitiator });
      flow.app = 'ftp-data';
      return true;
    }
    this.recent.set(flow.index, { flow, reversible: !startedWithSyn, firstPayload: null });
    if (this.recent.size > RECENT_FLOWS) this.recent.delete(this.recent.keys().next().value as number);
    return false;
  }

  tracks(flow: Flow): boolean {
    return this.tracked.has(flow.index);
  }

  /**
   * The session of these announcements was stored and forgotten: drop them from the port index
   * too. Expired announcements otherwise leave it only when a flow to the same port comes by,
   * which with random passive ports may be never.
   */
  forget(channels: FtpChannelFact[]): void {
    for (const fact of channels) {
      const list = this.byPort.get(fact.announcedPort);
      if (!list) continue;
      const i = list.findIndex((ch) => ch.fact === fact);
      if (i < 0) continue;
      list[i].open = false;
      list.splice(i, 1);
      if (list.length === 0) this.byPort.delete(fact.announcedPort);
    }
  }

  /** A matched data connection whose flow has not ended yet. */
  isOpen(flowIndex: number): boolean {
    return this.tracked.has(flowIndex);
  }

  firstPayload(flow: Flow, _dir: Dir, payload: Buffer, frame: number): void {
    const t = this.tracked.get(flow.index);
    if (t) {
      if (t.conn.firstPayloadFrame === null) { t.conn.firstPayloadFrame = frame; t.conn.tls = startsWithTlsHandshake(payload); }
      return;
    }
    const r = this.recent.get(flow.index);
    if (r && r.firstPayload === null) r.firstPayload = { frame, tls: startsWithTlsHandshake(payload) };
  }

  flowEnd(flow: Flow): void {
    const t = this.tracked.get(flow.index);
    if (!t) return;
    observe(t.conn, flow, t.clientIsInitiator);
    this.tracked.delete(flow.index);
  }

  private find(flow: Flow, reversed: boolean): Hit | null {
    const port = reversed ? flow.srcPort : flow.dstPort;
    const list = this.byPort.get(port);
    if (!list) return null;
    let best: Hit | null = null;
    let bestScore = Infinity;
    for (let i = list.length - 1; i >= 0; i--) {
      const ch = list[i];
      if (flow.firstTs > channelExpiry(ch)) { list.splice(i, 1); ch.open = false; continue; }
      const hit = this.fit(ch, flow, reversed);
      if (!hit) continue;
      const score = this.score(ch, flow, hit);
      // Latest announcement first on a tie (the list is in announcement order, walked backwards).
      if (score < bestScore) { best = hit; bestScore = score; }
    }
    if (list.length === 0) this.byPort.delete(port);
    return best;
  }

  private ends(flow: Flow, reversed: boolean): { src: string; dst: string; dstPort: number } {
    return reversed ? { src: flow.dstIp, dst: flow.srcIp, dstPort: flow.srcPort } : { src: flow.srcIp, dst: flow.dstIp, dstPort: flow.dstPort };
  }

  private fit(ch: ChannelState, flow: Flow, reversed: boolean): Hit | null {
    if (!ch.open || flow.firstTs > channelExpiry(ch) || flow.index === ch.peers.flow) return null;
    const e = this.ends(flow, reversed);
    if (e.dstPort !== ch.fact.announcedPort) return null;
    const passive = ch.fact.mode === 'passive';
    const expectedSrc = passive ? ch.peers.client : ch.peers.server;
    const peer = passive ? ch.peers.server : ch.peers.client;
    if (e.dst === ch.fact.announcedIp) return { ch, kind: 'announced', reversed };
    // The port at the control peer's address counts only from the expected side, or any
    // connection to a busy server's port would do.
    if (e.dst !== peer || e.src !== expectedSrc) return null;
    // A public announcement arriving at the peer's private address is the inside view of a DNAT
    // (vsftpd pasv_address behind a port forward), not a client ignoring the announcement.
    const translated = !isPrivateAddress(ch.fact.announcedIp) && isPrivateAddress(peer);
    return { ch, kind: translated ? 'nat-translated' : 'control-peer', reversed };
  }

  private score(ch: ChannelState, flow: Flow, hit: Hit): number {
    const e = this.ends(flow, hit.reversed);
    const expectedSrc = ch.fact.mode === 'passive' ? ch.peers.client : ch.peers.server;
    return (hit.kind === 'control-peer' ? 1 : 0) + (e.src === expectedSrc ? 0 : 2);
  }

  private claim(flow: Flow, hit: Hit): Tracked | null {
    const passive = hit.ch.fact.mode === 'passive';
    // Passive: the client opens the connection; active: the server does.
    const clientIsInitiator = passive !== hit.reversed;
    const conn = newConnection(flow, hit.kind, clientIsInitiator);
    flow.app = 'ftp-data';
    if (!addConnection(hit.ch, conn)) return null;
    const t = { conn, clientIsInitiator };
    this.tracked.set(flow.index, t);
    return t;
  }
}
