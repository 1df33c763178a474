/**
 * A data-channel announcement while the matcher can still tie a connection to it. The fact is
 * what gets stored; the rest is bookkeeping that dies with the analysis.
 */
import { tcpClosed, type Flow } from '../../flow/flow.js';
import type { DataConnectionFact, FtpChannelFact } from './facts.js';

/** The control connection's two ends, as the capture saw them. */
export interface ControlPeers {
  flow: number;
  client: string;
  server: string;
  serverPort: number;
}

export interface ChannelState {
  fact: FtpChannelFact;
  peers: ControlPeers;
  /** Still waiting for (more) connections. */
  open: boolean;
  /** Capture time (µs) after which no connection is tied to it any more (see channelExpiry). */
  expires: number;
  /** The control connection: once it has closed, the window ends soon after (AFTER_CONTROL_US). */
  control: Flow;
}

/** How long after an announcement a connection still counts as its data connection. */
export const CHANNEL_WINDOW_US = 120e6;
/**
 * A data connection may start this long after its control connection closed (a SYN already on
 * its way, capture reordering). Later ones belong to no announcement: the server closes its
 * listening port, and forgets a PORT, when the session ends.
 */
export const AFTER_CONTROL_US = 5e6;
/** Connections tied to one announcement beyond this are counted only. */
export const MAX_CONNECTIONS_PER_CHANNEL = 8;

/** When the channel stops taking connections: its window's end, or shortly after its control connection closed (FIN both ways, or RST). */
export function channelExpiry(ch: ChannelState): number {
  return tcpClosed(ch.control) ? Math.min(ch.expires, ch.control.lastTs + AFTER_CONTROL_US) : ch.expires;
}

export function addConnection(ch: ChannelState, conn: DataConnectionFact): boolean {
  if (ch.fact.connections.length >= MAX_CONNECTIONS_PER_CHANNEL) return false;
  ch.fact.connections.push(conn);
  return true;
}
