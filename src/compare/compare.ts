/**
 * The comparison of two captures of the same traffic taken on either side of a router: FTP
 * sessions paired by dialogue and timing, their announcements paired line by line, every
 * connection paired with its translated twin, the NAT each pair shows, and which capture is the
 * inside one (the side showing private addresses; arguments given the other way round are
 * swapped). Pure over the two CaptureViews: packet detail and the document come later.
 */
import { median } from './align.js';
import { pairChannels, type ChannelPair } from './channels.js';
import { pairFlows, type FlowPair } from './flows.js';
import { decideRoles, HostSides, mapFlow, type FlowMapping, type Roles } from './mappings.js';
import type { CaptureView } from './model.js';
import { pairSessions, type ClockOffset, type SessionPair, type SessionPairing } from './pairing.js';

export const DEFAULT_WINDOW_SECONDS = 2;

export interface Comparison {
  /** The captures in the order they were given. */
  first: CaptureView;
  second: CaptureView;
  inside: CaptureView;
  outside: CaptureView;
  /** Both arguments are the same capture (same sha256). */
  same: boolean;
  roles: Roles;
  sessions: SessionPairing;
  channels: Map<SessionPair, ChannelPair[]>;
  flows: FlowPair[];
  mappings: FlowMapping[];
  hosts: HostSides;
  offset: ClockOffset;
  windowUs: number;
}

type Core = Omit<Comparison, 'first' | 'second' | 'same' | 'roles'>;

function core(inside: CaptureView, outside: CaptureView, windowUs: number): Core {
  const sessions = pairSessions(inside.sessions, outside.sessions, windowUs);
  const channels = new Map(sessions.pairs.map((p) => [p, pairChannels(p)]));
  let offset = sessions.offset;
  let flows = pairFlows(inside.flows, outside.flows, sessions.pairs, channels, offset.us, windowUs);
  if (offset.basis === 'none' && flows.length > 0) {
    // No FTP session to measure the clocks by: the connections' first packets will do.
    offset = { us: median(flows.map((p) => p.outside.firstTs - p.inside.firstTs)), basis: 'flows', samples: flows.length };
    flows = pairFlows(inside.flows, outside.flows, sessions.pairs, channels, offset.us, windowUs);
  }
  const mappings = flows.map((p) => mapFlow(p, offset.us));
  return { inside, outside, sessions, channels, flows, mappings, hosts: new HostSides(mappings), offset, windowUs };
}

export function compareCaptures(first: CaptureView, second: CaptureView, windowSeconds = DEFAULT_WINDOW_SECONDS): Comparison {
  const windowUs = windowSeconds * 1e6;
  const same = first.id === second.id || (first.sha256 !== '' && first.sha256 === second.sha256);
  const asGiven = core(first, second, windowUs);
  const roles = decideRoles(asGiven.flows);
  const chosen = roles.verdict === 'swapped' ? core(second, first, windowUs) : asGiven;
  return { first, second, same, roles, ...chosen };
}
