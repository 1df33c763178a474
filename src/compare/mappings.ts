/**
 * The NAT a router applied, read off each paired connection: the initiator's endpoint changed
 * on the way (SNAT — masquerade is SNAT to the router's own address and looks the same on the
 * wire) and/or the responder's (DNAT, a port forward). Which capture saw the connection first
 * says where its initiator sits; that also places each host on one side of the router.
 */
import { isPrivateAddress } from '../proto/ftp/portmath.js';
import { orientedOutside, type FlowPair } from './flows.js';
import { endpointText, otherSide, protocolName, type Side } from './model.js';

export type NatKind = 'SNAT' | 'DNAT' | 'SNAT+DNAT' | 'none';

export interface Translation {
  kind: 'SNAT' | 'DNAT';
  /** The endpoint as the initiator's side of the router sees it, and as the other side sees it. */
  from: { ip: string; port: number };
  to: { ip: string; port: number };
  addressChanged: boolean;
  portChanged: boolean;
}

export interface FlowMapping {
  pair: FlowPair;
  kind: NatKind;
  initiatorSide: Side | null;
  /** How initiatorSide was decided. */
  initiatorBasis: 'translation' | 'timing' | null;
  translations: Translation[];
}

/** Below this the two captures' timestamps cannot say which saw a packet first. */
export const TIMING_NOISE_US = 1;

export function mapFlow(pair: FlowPair, offsetUs: number): FlowMapping {
  const i = pair.inside;
  const o = orientedOutside(pair);
  const snat = i.src !== o.src || i.srcPort !== o.srcPort;
  const dnat = i.dst !== o.dst || i.dstPort !== o.dstPort;
  const kind: NatKind = snat && dnat ? 'SNAT+DNAT' : snat ? 'SNAT' : dnat ? 'DNAT' : 'none';
  let initiatorSide: Side | null = null;
  let initiatorBasis: FlowMapping['initiatorBasis'] = null;
  // A source NAT translates connections opened from behind it, a port forward those opened
  // towards it: the conventional reading is sturdier than timestamps from two clocks.
  if (kind === 'SNAT') { initiatorSide = 'inside'; initiatorBasis = 'translation'; }
  else if (kind === 'DNAT') { initiatorSide = 'outside'; initiatorBasis = 'translation'; }
  else {
    const lead = pair.outside.firstTs - pair.inside.firstTs - offsetUs;
    if (Math.abs(lead) >= TIMING_NOISE_US) { initiatorSide = lead > 0 ? 'inside' : 'outside'; initiatorBasis = 'timing'; }
  }
  const fromInside = (initiatorSide ?? (snat ? 'inside' : 'outside')) === 'inside';
  const translations: Translation[] = [];
  const add = (k: 'SNAT' | 'DNAT', ip: string, port: number, oip: string, oport: number): void => {
    const inside = { ip, port }, outside = { ip: oip, port: oport };
    translations.push({ kind: k, from: fromInside ? inside : outside, to: fromInside ? outside : inside, addressChanged: ip !== oip, portChanged: port !== oport });
  };
  if (snat) add('SNAT', i.src, i.srcPort, o.src, o.srcPort);
  if (dnat) add('DNAT', i.dst, i.dstPort, o.dst, o.dstPort);
  return { pair, kind, initiatorSide, initiatorBasis, translations };
}

/** One address translation with every connection that showed it. */
export interface NatRule {
  kind: 'SNAT' | 'DNAT';
  from: string;
  to: string;
  /** Port pairs seen (first 20), and whether every one kept its port. */
  ports: Array<{ from: number; to: number; protocol: string }>;
  portsPreserved: boolean;
  connections: number;
  roles: string[];
}

export function natRules(mappings: FlowMapping[]): NatRule[] {
  const rules = new Map<string, NatRule>();
  for (const m of mappings) {
    for (const t of m.translations) {
      const key = `${t.kind}|${t.from.ip}|${t.to.ip}`;
      const r = rules.get(key) ?? { kind: t.kind, from: t.from.ip, to: t.to.ip, ports: [], portsPreserved: true, connections: 0, roles: [] };
      r.connections++;
      if (t.portChanged) r.portsPreserved = false;
      const proto = protocolName(m.pair.inside.protocol);
      if (r.ports.length < 20 && !r.ports.some((p) => p.from === t.from.port && p.to === t.to.port && p.protocol === proto)) {
        r.ports.push({ from: t.from.port, to: t.to.port, protocol: proto });
      }
      if (!r.roles.includes(m.pair.role)) r.roles.push(m.pair.role);
      rules.set(key, r);
    }
  }
  return [...rules.values()];
}

export function translationText(t: Translation): string {
  return `${t.kind} ${endpointText(t.from.ip, t.from.port)} → ${endpointText(t.to.ip, t.to.port)}`;
}

/**
 * Which side of the router each address (as each capture shows it) is on: the initiator of a
 * paired connection on its initiator's side, the responder on the other. An address placed on
 * both sides is left unknown.
 */
export class HostSides {
  private sides: Record<Side, Map<string, Side | null>> = { inside: new Map(), outside: new Map() };

  constructor(mappings: FlowMapping[]) {
    for (const m of mappings) {
      if (m.initiatorSide === null) continue;
      const o = orientedOutside(m.pair);
      this.put('inside', m.pair.inside.src, m.initiatorSide);
      this.put('inside', m.pair.inside.dst, otherSide(m.initiatorSide));
      this.put('outside', o.src, m.initiatorSide);
      this.put('outside', o.dst, otherSide(m.initiatorSide));
    }
  }

  private put(capture: Side, ip: string, side: Side): void {
    const map = this.sides[capture];
    if (!map.has(ip)) map.set(ip, side);
    else if (map.get(ip) !== side) map.set(ip, null);
  }

  /** The side of `ip` as the `capture` capture shows it, or null when not known. */
  of(capture: Side, ip: string): Side | null {
    return this.sides[capture].get(ip) ?? null;
  }
}

export interface Roles {
  /** The first argument is the inside capture (as given), the second one is (swapped), or no telling. */
  verdict: 'as-given' | 'swapped' | 'unknown';
  basis: string;
  /** Translated addresses that decided it: what the first and the second capture show. */
  evidence: Array<{ first: string; second: string }>;
}

/**
 * Inside is the side that shows the private addresses: where one capture shows a private
 * address and the other a public one for the same endpoint, the first is the inside one.
 * Pairs computed with the first capture as "inside".
 */
export function decideRoles(pairs: FlowPair[]): Roles {
  const asGiven: Array<{ first: string; second: string }> = [], swapped: Array<{ first: string; second: string }> = [];
  for (const p of pairs) {
    const o = orientedOutside(p);
    for (const [a, b] of [[p.inside.src, o.src], [p.inside.dst, o.dst]] as const) {
      if (a === b) continue;
      const pa = isPrivateAddress(a), pb = isPrivateAddress(b);
      const list = pa && !pb ? asGiven : pb && !pa ? swapped : null;
      if (list && !list.some((e) => e.first === a && e.second === b)) list.push({ first: a, second: b });
    }
  }
  if (asGiven.length > 0 && swapped.length === 0) {
    return { verdict: 'as-given', basis: `the first capture shows the private address${asGiven.length > 1 ? 'es' : ''} ${asGiven.map((e) => `${e.first} (${e.second} in the second)`).join(', ')}`, evidence: asGiven };
  }
  if (swapped.length > 0 && asGiven.length === 0) {
    return { verdict: 'swapped', basis: `the second capture shows the private address${swapped.length > 1 ? 'es' : ''} ${swapped.map((e) => `${e.second} (${e.first} in the first)`).join(', ')}: it is the inside one`, evidence: swapped };
  }
  if (asGiven.length > 0) return { verdict: 'unknown', basis: 'each capture shows private addresses the other translates: cannot tell which is inside; taken as given', evidence: [...asGiven, ...swapped] };
  if (pairs.length === 0) {
    return { verdict: 'unknown', basis: 'no connection of one capture could be paired with one of the other (not the same traffic?): cannot tell which capture is inside; taken as given', evidence: [] };
  }
  const translated = pairs.some((p) => { const o = orientedOutside(p); return p.inside.src !== o.src || p.inside.dst !== o.dst; });
  return {
    verdict: 'unknown',
    basis: translated
      ? 'addresses are translated between public addresses only: cannot tell which capture is inside; taken as given'
      : 'no address differs between the two captures (routed, no NAT): cannot tell which capture is inside; taken as given',
    evidence: [],
  };
}
