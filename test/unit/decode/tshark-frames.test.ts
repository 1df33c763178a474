/**
 * Every frame of the third-party captures whose manifest says they exercise VLAN/QinQ tags,
 * Linux cooked headers, loopback, raw-IP link types, IPv6 or mixed link types, decoded by
 * decodePacket and compared with tshark 4.0 run live on the same file: the innermost IP
 * addresses, the transport ports / ICMP type, the VLAN ids (outermost first) and the EtherType
 * the link layer dispatches on must be tshark's.
 *
 * tshark lists outer and inner values of tunnels in one field (occurrence=a); its
 * frame.protocols says which occurrence belongs to which layer, so the walk below reads both
 * together and keeps the innermost layer we claim to decode (MPLS, IP-in-IP, GTP-U, VXLAN,
 * Geneve, GRE, ERSPAN: inside the last three, an Ethernet header is the link layer compared).
 * Past an encapsulation we do not decode (PPTP's GRE, PPPoE, NSH, IPv4 AH, ...) our packet
 * must stop exactly at the layer in front of it. Defragmentation is off on both sides: only
 * first fragments carry ports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { NotACaptureError, readCapture } from '../../../src/source/open.js';
import { LINKTYPE } from '../../../src/source/frame.js';
import { decodePacket } from '../../../src/decode/packet.js';
import { carriesTunnels, manifest, thirdParty, type ManifestEntry } from '../../helpers.js';

const TSHARK = '/usr/bin/tshark';
const TAGS = new Set(['vlan', 'qinq', 'sll', 'sll2', 'loopback', 'linktype-raw', 'ipv6', 'mixed-linktypes']);
const FIELDS = [
  'frame.number', 'frame.protocols', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst',
  'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'vlan.id', 'ieee8021ad.id',
  'icmp.type', 'icmpv6.type', 'eth.type', 'vlan.etype', 'ieee8021ah.etype', 'sll.etype', 'vntag.etype',
  'null.type', 'null.family', 'sll.gretype', 'llc.type',
] as const;
type Field = typeof FIELDS[number];
type Row = Record<Field, string[]>;

/** What one frame looks like once reduced to the fields compared (ours or tshark's). */
interface View {
  /** EtherType the link layer hands on; null when not compared. */
  etherType: number | null;
  vlans: number[];
  net: { src: string; dst: string } | null;
  transport: { kind: 'tcp' | 'udp'; sp: number; dp: number } | { kind: 'icmp'; type: number } | { kind: 'igmp' } | null;
  quoted: { src: string; dst: string; sp: number; dp: number } | null;
  /** The protocol token tshark went on to after our last layer, when we stop short of it. */
  stopsAt: string | null;
  /** Our malformed result, when there is one. */
  reason?: string;
}

function runTshark(path: string): Promise<string> {
  const args = ['-r', path, '-n', '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE',
    '-o', 'tcp.desegment_tcp_streams:FALSE', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a',
    '-E', 'aggregator=,', '-E', 'quote=n', ...FIELDS.flatMap((f) => ['-e', f])];
  const run = new Promise<string>((resolve, reject) => {
    execFile(TSHARK, args, { maxBuffer: 1 << 28 }, (err, stdout) => {
      // tshark exits 2 on files that end in a cut record yet prints every frame before it.
      if (err && !stdout) reject(err); else resolve(stdout);
    });
  });
  run.catch(() => {}); // awaited later; keep an early failure from counting as unhandled
  return run;
}

function parseRows(out: string): Map<number, Row> {
  const rows = new Map<number, Row>();
  for (const line of out.split('\n')) {
    if (!line) continue;
    const cols = line.split('\t');
    const row = {} as Row;
    FIELDS.forEach((f, i) => { row[f] = cols[i] ? cols[i].split(',') : []; });
    rows.set(Number(cols[0]), row);
  }
  return rows;
}

const LINK_TOKENS = new Set(['eth', 'ethertype', 'vlan', 'ieee8021ad', 'vntag', 'sll', 'null', 'raw', 'nflog', 'llc']);
const TUNNEL_TOKENS = new Set(['vxlan', 'geneve', 'gre', 'erspan']);
const IPV6_EXT_TOKENS = new Set(['ipv6.hopopts', 'ipv6.routing', 'ipv6.fraghdr', 'ipv6.dstopts', 'ipv6.mipv6']);
const NULL_AF: Record<string, number> = { 2: 0x0800, 24: 0x86dd, 28: 0x86dd, 30: 0x86dd };

/** tshark's frame reduced to the innermost layers we decode (see the file comment). */
function tsharkView(row: Row): View {
  const tokens = row['frame.protocols'].join(',').split(':');
  const at: Record<string, number> = {};
  const next = (f: Field): string | undefined => { const i = at[f] ?? 0; at[f] = i + 1; return row[f][i]; };
  const view: View = { etherType: null, vlans: [], net: null, transport: null, quoted: null, stopsAt: null };
  let inLink = true;
  let netVersion = 0;
  // Inside a tunnel: the view as it stood in front of it, to go back to when nothing inside is
  // one we read (PPTP's GRE carries PPP, a GRE keepalive nothing).
  let before: { view: View; token: string } | null = null;
  let readInside = false;
  const enter = (token: string): void => {
    before = { view: { ...view, vlans: [...view.vlans] }, token };
    readInside = false;
    Object.assign(view, { net: null, transport: null, quoted: null });
    inLink = true;
  };
  const result = (): View => (before !== null && !readInside ? { ...before.view, stopsAt: before.token } : view);
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    if (TUNNEL_TOKENS.has(tok)) {
      enter(tok);
      if (tok === 'gre' && tokens[i + 1] === 'erspan') i++;
      continue;
    }
    if (inLink && LINK_TOKENS.has(tok)) {
      const hex = (v: string | undefined): number => (v === undefined ? -1 : parseInt(v, 16));
      // An Ethernet header inside a tunnel is the link layer from there on (its own VLANs only).
      if (tok === 'eth' && before !== null) view.vlans = [];
      if (tok === 'eth') view.etherType = hex(next('eth.type'));
      else if (tok === 'vlan') { view.vlans.push(Number(next('vlan.id'))); view.etherType = hex(next('vlan.etype')); }
      else if (tok === 'ieee8021ad') { view.vlans.push(Number(next('ieee8021ad.id'))); view.etherType = hex(next('ieee8021ah.etype')); }
      else if (tok === 'vntag') view.etherType = hex(next('vntag.etype'));
      // SLL of a GRE device (ARPHRD 778) names the same 16 bits sll.gretype.
      else if (tok === 'sll') view.etherType = hex(next('sll.etype') ?? next('sll.gretype'));
      // 802.2 LLC: only a SNAP header with an EtherType OUI (llc.type) hands on an EtherType.
      else if (tok === 'llc') view.etherType = hex(next('llc.type'));
      else if (tok === 'null') {
        const type = next('null.type'), fam = next('null.family');
        view.etherType = type !== undefined ? hex(type) : (NULL_AF[fam ?? ''] ?? -1);
      }
      if (tok === 'eth') readInside = true;
      continue;
    }
    inLink = false;
    if (tok === 'ip' || tok === 'ipv6' || tok === 'arp' || tok === 'mpls') readInside = true;
    // ARP straight inside a tunnel: the outer Ethernet stands in front of it (its VLANs are
    // compared), but the type that led there was the tunnel's, not an EtherType of that header.
    if (tok === 'arp' && TUNNEL_TOKENS.has(tokens[i - 1])) view.etherType = null;
    if (tok === 'ip' || tok === 'ipv6') {
      const v = tok === 'ip' ? 4 : 6;
      view.net = v === 4 ? { src: next('ip.src') ?? '', dst: next('ip.dst') ?? '' } : { src: next('ipv6.src') ?? '', dst: next('ipv6.dst') ?? '' };
      netVersion = v;
      continue;
    }
    if (tok === 'mpls' || (IPV6_EXT_TOKENS.has(tok) && netVersion === 6) || (tok === 'ah' && netVersion === 6)) continue;
    if (tok === 'tcp' || tok === 'udp') {
      const sp = Number(next(`${tok}.srcport`)), dp = Number(next(`${tok}.dstport`));
      view.transport = { kind: tok, sp, dp };
      if (tok === 'udp' && (tokens[i + 1] === 'vxlan' || tokens[i + 1] === 'geneve')) continue;
      // GTP-U: the conversation is the tunnelled packet's (packet.ts), and so is ours.
      if (tok === 'udp' && tokens[i + 1] === 'gtp' && (tokens[i + 2] === 'ip' || tokens[i + 2] === 'ipv6')) {
        view.transport = null;
        i++;
        continue;
      }
      break;
    }
    if (tok === 'icmp' || tok === 'icmpv6') {
      view.transport = { kind: 'icmp', type: Number(next(tok === 'icmp' ? 'icmp.type' : 'icmpv6.type')) };
      const q = tokens[i + 1];
      if (q === 'ip' || q === 'ipv6') {
        const src = next(q === 'ip' ? 'ip.src' : 'ipv6.src') ?? '', dst = next(q === 'ip' ? 'ip.dst' : 'ipv6.dst') ?? '';
        let j = i + 2;
        while (IPV6_EXT_TOKENS.has(tokens[j])) j++;
        const l4 = tokens[j];
        const ports = l4 === 'tcp' || l4 === 'udp' ? [Number(next(`${l4}.srcport`)), Number(next(`${l4}.dstport`))] : [-1, -1];
        view.quoted = { src, dst, sp: ports[0], dp: ports[1] };
      }
      break;
    }
    if (tok === 'igmp' && netVersion === 4) { view.transport = { kind: 'igmp' }; break; }
    if (tok === 'arp' && view.net === null) break;
    view.stopsAt = tok;
    break;
  }
  return result();
}

function ourView(frame: Parameters<typeof decodePacket>[0]): View | null {
  const p = decodePacket(frame);
  if (p.link === null && p.malformed === null) return null;
  const view: View = { etherType: p.link ? p.link.etherType : null, vlans: p.link?.vlans ?? [], net: null, transport: null, quoted: null, stopsAt: null };
  if (p.malformed) view.reason = `${p.malformed.layer}@${p.malformed.offset}: ${p.malformed.reason}`;
  if (p.net && p.net.kind !== 'arp') view.net = { src: p.net.src, dst: p.net.dst };
  const t = p.transport;
  if (t?.kind === 'tcp' || t?.kind === 'udp') view.transport = { kind: t.kind, sp: t.srcPort, dp: t.dstPort };
  else if (t?.kind === 'icmp') {
    view.transport = { kind: 'icmp', type: t.type };
    if (t.quoted) view.quoted = { src: t.quoted.src, dst: t.quoted.dst, sp: t.quoted.srcPort, dp: t.quoted.dstPort };
  } else if (t?.kind === 'igmp') view.transport = { kind: 'igmp' };
  return view;
}

interface Tally { mismatches: string[]; refusedByReader: string[]; files: number; frames: number; fields: number; unsupported: Record<string, number>; accepted: Record<string, number>; notDecodedLink: Record<string, number> }

/**
 * Differences we accept, each for a stated reason; anything else fails. All concern frames we
 * report malformed, where tshark still prints what it could read:
 *  - an IP header cut short, shorter than 20 bytes or with an extension chain cut short: we
 *    return no addresses at all (the header is one unit for us), tshark shows the few it read;
 *  - the version nibble disagrees with the EtherType (fuzzed files): tshark follows the nibble,
 *    we report the mismatch;
 *  - an MPLS stack of more than 16 labels (fuzzed junk): we stop, tshark decodes garbage as IP;
 *  - a TCP/UDP header cut short: tshark prints the ports of a 4-byte stub, we report it.
 */
function acceptedDifference(ours: View, theirs: View): string | null {
  if (!ours.reason) return null;
  const layer = ours.reason.slice(0, ours.reason.indexOf('@'));
  if (layer === 'mpls' && /deeper than 16/.test(ours.reason)) return 'mpls-stack-over-16';
  if ((layer === 'ipv4' || layer === 'ipv6') && ours.transport === null) {
    if (/IP version \d+ in an IPv[46] header/.test(ours.reason)) return 'ip-version-vs-ethertype';
    if (/cut short|needs \d+ bytes|below 20|shorter than its header|run past/.test(ours.reason)) return 'ip-header-cut-short';
  }
  const same = JSON.stringify(ours.net) === JSON.stringify(theirs.net);
  if ((layer === 'tcp' || layer === 'udp') && /needs \d+ bytes/.test(ours.reason) && same && ours.transport === null && theirs.transport?.kind === layer) {
    return 'transport-header-cut-short';
  }
  return null;
}

function compare(ours: View, theirs: View, where: string, tally: Tally): void {
  // Link layer: VLAN ids outermost first, and the EtherType handed on.
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  if (!same(ours.vlans, theirs.vlans)) tally.mismatches.push(`${where}: VLAN ids ours ${ours.vlans} tshark ${theirs.vlans}`);
  tally.fields += ours.vlans.length;
  if (theirs.etherType !== null && ours.etherType !== null) {
    const expected = theirs.etherType < 0x0600 ? -1 : theirs.etherType;
    if (ours.etherType !== expected) tally.mismatches.push(`${where}: EtherType ours ${ours.etherType} tshark ${expected}`);
    tally.fields++;
  }
  if (theirs.stopsAt !== null) tally.unsupported[theirs.stopsAt] = (tally.unsupported[theirs.stopsAt] ?? 0) + 1;
  if (!same(ours.net, theirs.net) || !same(ours.transport, theirs.transport) || !same(ours.quoted, theirs.quoted)) {
    const why = acceptedDifference(ours, theirs);
    if (why !== null) { tally.accepted[why] = (tally.accepted[why] ?? 0) + 1; return; }
    tally.mismatches.push(`${where}: ours ${JSON.stringify([ours.net, ours.transport, ours.quoted, ours.reason])} tshark ${JSON.stringify([theirs.net, theirs.transport, theirs.quoted, theirs.stopsAt])}`);
    return;
  }
  if (ours.net) tally.fields += 2;
  if (ours.transport) tally.fields += ours.transport.kind === 'tcp' || ours.transport.kind === 'udp' ? 2 : 1;
  if (ours.quoted) tally.fields += 4;
}

async function checkFile(e: ManifestEntry, tally: Tally, tsharkOut: Promise<string>): Promise<void> {
  const path = thirdParty(e.localPath);
  const ours = new Map<number, View | null>();
  const linkTypes = new Map<number, number>();
  try {
    await readCapture(path, {
      frame: (f) => { ours.set(f.no, ourView(f)); linkTypes.set(f.no, f.linkType); },
      warning: () => {},
    });
  } catch (err) {
    // A file header the reader refuses (e.g. pcap version 2.5) is the reader's verdict.
    if (!(err instanceof NotACaptureError)) throw err;
    tally.refusedByReader.push(e.localPath);
    await tsharkOut;
    return;
  }
  const rows = parseRows(await tsharkOut);
  assert.ok(rows.size > 0, `${e.localPath}: tshark listed no frame`);
  const known = new Set<number>([...Object.values(LINKTYPE), 12, 14]);
  for (const [no, row] of rows) {
    const where = `${e.localPath} frame ${no}`;
    const mine = ours.get(no);
    assert.ok(mine !== undefined, `${where}: we read no such frame`);
    if (mine === null) {
      // A link type we do not claim to decode (or a pcapng custom block).
      const lt = linkTypes.get(no) ?? -2;
      assert.ok(!known.has(lt) || lt === LINKTYPE.PCAPNG_CUSTOM_BLOCK, `${where}: link type ${lt} left undecoded`);
      tally.notDecodedLink[lt] = (tally.notDecodedLink[lt] ?? 0) + 1;
      continue;
    }
    compare(mine, tsharkView(row), where, tally);
    tally.frames++;
  }
  tally.files++;
}

test('innermost addresses, ports, ICMP types, VLAN ids and EtherTypes equal tshark, frame by frame', { timeout: 600_000 }, async (t) => {
  assert.ok(existsSync(TSHARK), `${TSHARK} is missing: install the Debian package "tshark" (apt-get install tshark)`);
  // zstd-compressed captures are the reader's business (it does not inflate them), not the decoders'.
  const entries = manifest().filter((e) => (e.exercises.some((x) => TAGS.has(x)) || carriesTunnels(e)) && e.frames > 0
    && !e.linkType.startsWith('unreadable') && !e.localPath.endsWith('.zst'));
  assert.ok(entries.length >= 100, `expected the tagged captures, found ${entries.length}`);
  const tally: Tally = { mismatches: [], refusedByReader: [], files: 0, frames: 0, fields: 0, unsupported: {}, accepted: {}, notDecodedLink: {} };
  // tshark runs a few at a time while we decode: each run costs ~0.3 s of start-up.
  const pending = entries.map((e) => ({ e, out: null as Promise<string> | null }));
  const start = (i: number): void => { if (i < pending.length && !pending[i].out) pending[i].out = runTshark(thirdParty(pending[i].e.localPath)); };
  for (let i = 0; i < 3; i++) start(i);
  for (let i = 0; i < pending.length; i++) {
    start(i);
    start(i + 3);
    const { e, out } = pending[i];
    await checkFile(e, tally, out!);
  }
  t.diagnostic(`files ${tally.files}, frames ${tally.frames}, fields compared ${tally.fields}, frames of link types we do not decode ${JSON.stringify(tally.notDecodedLink)} (-1: pcapng custom block)`);
  t.diagnostic(`accepted differences on malformed frames: ${JSON.stringify(tally.accepted)}`);
  t.diagnostic(`files the reader refuses: ${tally.refusedByReader.join(', ') || 'none'}`);
  t.diagnostic(`frames where we stop in front of an encapsulation we do not decode: ${JSON.stringify(tally.unsupported)}`);
  assert.deepEqual(tally.mismatches.slice(0, 40), [], `${tally.mismatches.length} frames differ`);
  assert.ok(tally.frames > 10000, `only ${tally.frames} frames compared`);
});
