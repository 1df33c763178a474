/**
 * A data-channel announcement while the matcher can still tie a connection to it. The fact is
 * what gets stored; the rest is bookkeeping that dies with the analysis.
 */
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
  /** Capture time (µs) after which no connection is tied to it any more. */
  expires: number;
}

/** How long after an announcement a connection still counts as its data connection. */
export const CHANNEL_WINDOW_US = 120e6;
/** Connections tied to one announcement beyond this are counted only. */
export const MAX_CONNECTIONS_PER_CHANNEL = 8;

export function addConnection(ch: ChannelState, conn: DataConnectionFact): boolean {
  if (ch.fact.connections.length >= MAX_CONNECTIONS_PER_CHANNEL) return false;
  ch.fact.connections.push(conn);
  return true;
}
