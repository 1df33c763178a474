/**
 * ARP, IGMP and link-layer facts of the third-party captures against the tshark 4.0 decode
 * stored next to each (`<capture>.tshark.json`, see captures/third-party/tools/groundtruth.py):
 *  - every ARP frame tshark lists: opcode, sender/target MAC and IPv4, Ethernet src/dst and
 *    802.1Q VLAN ids;
 *  - every IGMP message: version, type, group(s), max response, group records, record types,
 *    source addresses;
 *  - per capture, how many frames of each encapsulation (frame.encap_type) and how many frames of
 *    each Linux cooked packet type (sll.pkttype) there are.
 * Where tshark shows something we do not decode, the test asserts what we do instead and why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NotACaptureError, readCapture } from '../../../src/source/open.js';
import { LINKTYPE } from '../../../src/source/frame.js';
import { decodePacket, type Packet } from '../../../src/decode/packet.js';
import { macText } from '../../../src/decode/addr.js';
import { manifest, thirdParty, tsharkTruth, type ManifestEntry } from '../../helpers.js';
import { spawnSync } from 'node:child_process';
import { TSHARK } from '../../tshark.js';

interface ArpTruth {
  frame: number; opcode: number; src_mac: string | null; src_ip: string | null; dst_mac: string | null; dst_ip: string | null;
  eth_src: string | null; eth_dst: string | null; vlan: string[];
}
interface IgmpTruth {
  frame: number; version: string[]; type: string[]; maddr: string[]; max_resp: string[]; num_src: string[];
  num_grp_recs: string[]; record_type: string[]; saddr: string[];
}

/** What we keep of a decoded frame (the frame's bytes are a view valid only in the callback). */
interface Decoded { pkt: Packet; bytes: Buffer }

async function decodeAll(e: ManifestEntry): Promise<Map<number, Decoded> | null> {
  const out = new Map<number, Decoded>();
  try {
    await readCapture(thirdParty(e.localPath), {
      frame: (f) => {
        const bytes = Buffer.from(f.data);
        out.set(f.no, { pkt: decodePacket({ ...f, data: bytes }), bytes });
      },
      warning: () => {},
    });
  } catch (err) {
    if (err instanceof NotACaptureError) return null;
    throw err;
  }
  return out;
}

/** The TPIDs of an Ethernet frame's tag stack, read straight from its bytes (outermost first). */
function tagTpids(b: Buffer): number[] {
  const out: number[] = [];
  for (let off = 12; off + 4 <= b.length; off += 4) {
    const t = b.readUInt16BE(off);
    if (t !== 0x8100 && t !== 0x88a8 && t !== 0x9100 && t !== 0x9200 && t !== 0x9300) break;
    out.push(t);
  }
  return out;
}

/** Inside VXLAN (RFC 7348), Geneve (RFC 8926), GRE or ERSPAN: read inside, as tshark reads it. */
function tunnelled(pkt: Packet): boolean {
  return pkt.tunnels !== null && pkt.tunnels.some((t) => t === 'vxlan' || t === 'geneve' || t === 'gre' || t === 'erspan');
}

/**
 * The innermost Ethernet addresses and VLAN ids tshark shows per frame (occurrence=l): the stored
 * truth holds the first occurrence, the outer header's, where the inner frame is our link layer.
 */
function innermostEthernet(e: ManifestEntry): Map<number, { src: string; dst: string; vlan: string }> {
  const out = new Map<number, { src: string; dst: string; vlan: string }>();
  const r = spawnSync(TSHARK, ['-n', '-r', thirdParty(e.localPath), '-T', 'fields', '-E', 'occurrence=l', '-e', 'frame.number', '-e', 'eth.src', '-e', 'eth.dst', '-e', 'vlan.id'], { encoding: 'utf8' });
  for (const line of r.stdout.split('\n')) {
    const [no, src, dst, vlan] = line.split('\t');
    if (no) out.set(Number(no), { src, dst, vlan: vlan ?? '' });
  }
  return out;
}

const entries = manifest().filter((e) => e.frames > 0 && !e.linkType.startsWith('unreadable'));

test('every ARP frame tshark lists: opcode, addresses, Ethernet src/dst and VLANs equal ours', async (t) => {
  const tally = { frames: 0, fields: 0, nonEthernetHw: 0, notEthernetIpv4: 0, cutShort: 0, tunnelled: 0, linkNotDecoded: 0 };
  for (const e of entries) {
    const arp = tsharkTruth(e).arp as ArpTruth[] | undefined;
    if (!arp) continue;
    const frames = await decodeAll(e);
    assert.ok(frames, `${e.localPath}: our reader refused a capture tshark read`);
    let innermost: ReturnType<typeof innermostEthernet> | undefined;
    for (const a of arp) {
      const where = `${e.localPath} frame ${a.frame}`;
      const d: Decoded | undefined = frames.get(a.frame);
      assert.ok(d, `${where}: missing`);
      const pkt: Packet = d.pkt, bytes: Buffer = d.bytes;
      tally.frames++;
      if (pkt.link === null) {
        // 802.11 and radiotap: link types we do not claim to decode.
        assert.ok(pkt.frame.linkType === 105 || pkt.frame.linkType === 127, `${where}: link type ${pkt.frame.linkType} not decoded`);
        tally.linkNotDecoded++;
        continue;
      }
      const link = pkt.link;
      if (tunnelled(pkt)) {
        // The Ethernet header in front of the ARP: the tunnel's inner one when it carries a
        // frame, else the outer one (ARP straight in GRE or Geneve), as tshark's last occurrence.
        tally.tunnelled++;
        const inner = (innermost ??= innermostEthernet(e)).get(a.frame);
        assert.ok(inner, `${where}: tshark lists no Ethernet header`);
        assert.deepEqual([macText(link.src), macText(link.dst), (link.vlans ?? []).slice(-1).map(String).join()], [inner.src, inner.dst, inner.vlan], `${where}: innermost Ethernet header`);
        tally.fields += 3;
      } else if (pkt.frame.linkType === LINKTYPE.ETHERNET) {
        // Ethernet addresses and 802.1Q ids (tshark's vlan.id omits 802.1ad S-tags, ieee8021ad.id).
        assert.equal(macText(link.src), a.eth_src, `${where}: Ethernet source`);
        assert.equal(macText(link.dst), a.eth_dst, `${where}: Ethernet destination`);
        const tpids = tagTpids(bytes);
        const cTags = (link.vlans ?? []).filter((_, i) => tpids[i] !== 0x88a8);
        assert.deepEqual(cTags.map(String), a.vlan, `${where}: VLAN ids`);
        tally.fields += 2 + a.vlan.length;
      } else {
        assert.equal(a.eth_src, null, `${where}: tshark saw no Ethernet header`);
      }
      const off = link.offset;
      const net = pkt.net;
      if (a.src_mac !== null && a.src_ip !== null && a.dst_mac !== null && a.dst_ip !== null) {
        assert.ok(net && net.kind === 'arp', `${where}: not decoded as ARP (${pkt.malformed?.reason})`);
        assert.equal(net.opcode, a.opcode, `${where}: opcode`);
        assert.equal(macText(net.senderMac), a.src_mac, `${where}: sender MAC`);
        assert.equal(net.senderIp, a.src_ip, `${where}: sender IP`);
        assert.equal(macText(net.targetMac), a.dst_mac, `${where}: target MAC`);
        assert.equal(net.targetIp, a.dst_ip, `${where}: target IP`);
        tally.fields += 5;
        continue;
      }
      // tshark could not show Ethernet/IPv4 addresses: find out why from the header bytes.
      const htype = bytes.readUInt16BE(off), ptype = bytes.readUInt16BE(off + 2), hlen = bytes[off + 4], plen = bytes[off + 5];
      if (hlen !== 6 || plen !== 4 || ptype !== 0x0800) {
        // RFC 826 allows other sizes; we decode Ethernet/IPv4 ARP only and say so.
        assert.equal(pkt.malformed?.layer, 'arp', `${where}: hlen ${hlen} plen ${plen} ptype ${ptype}`);
        assert.equal(pkt.malformed?.offset, off, where);
        assert.match(pkt.malformed?.reason ?? '', /is not decoded/, where);
        tally.notEthernetIpv4++;
      } else if (bytes.length < off + 28) {
        assert.deepEqual([pkt.malformed?.layer, pkt.malformed?.offset], ['arp', off], `${where}: cut short`);
        tally.cutShort++;
      } else {
        // 6-byte hardware addresses of a hardware type tshark does not call Ethernet: tshark
        // omits arp.src.hw_mac, we still read them; the rest must agree.
        assert.notEqual(htype, 1, `${where}: Ethernet ARP yet tshark showed no MAC`);
        assert.ok(net && net.kind === 'arp', where);
        assert.equal(net.opcode, a.opcode, `${where}: opcode`);
        if (a.src_ip !== null) assert.equal(net.senderIp, a.src_ip, `${where}: sender IP`);
        if (a.dst_ip !== null) assert.equal(net.targetIp, a.dst_ip, `${where}: target IP`);
        tally.nonEthernetHw++;
      }
    }
  }
  t.diagnostic(`ARP frames ${tally.frames}, fields compared ${tally.fields}; not Ethernet/IPv4 (malformed for us) ${tally.notEthernetIpv4}, `
    + `other hardware type ${tally.nonEthernetHw}, cut short ${tally.cutShort}, inside VXLAN/Geneve/GRE ${tally.tunnelled}, 802.11 link ${tally.linkNotDecoded}`);
  assert.ok(tally.frames > 2000 && tally.fields > 1000, JSON.stringify(tally));
  assert.ok(tally.tunnelled >= 4, `ARP inside tunnels compared: ${tally.tunnelled}`);
});

/** RFC 3376 §4.1.1: Max Resp Code ≥ 128 is a floating-point value (mant | 0x10) << (exp + 3). */
function maxRespTime(code: number): number {
  return code < 128 ? code : ((code & 0x0f) | 0x10) << (((code >> 4) & 0x07) + 3);
}

test('every IGMP message tshark lists: version, type, groups, records and sources equal ours', async (t) => {
  const tally = { messages: 0, fields: 0, reports: 0, records: 0, sources: 0, querySourcesNotDecoded: 0, otherTypes: 0, tunnelled: 0 };
  for (const e of entries) {
    const igmp = tsharkTruth(e).igmp as IgmpTruth[] | undefined;
    if (!igmp) continue;
    const frames = await decodeAll(e);
    assert.ok(frames, `${e.localPath}: our reader refused a capture tshark read`);
    for (const g of igmp) {
      const where = `${e.localPath} frame ${g.frame}`;
      const d: Decoded | undefined = frames.get(g.frame);
      assert.ok(d, `${where}: missing`);
      const pkt: Packet = d.pkt;
      tally.messages++;
      if (tunnelled(pkt)) tally.tunnelled++;
      const m = pkt.transport;
      const type = parseInt(g.type[0], 16);
      if (![0x11, 0x12, 0x16, 0x17, 0x22].includes(type)) {
        // DVMRP/mrinfo/mtrace ride IGMP type numbers we do not decode: reported, not guessed.
        assert.equal(pkt.malformed?.layer, 'igmp', where);
        assert.match(pkt.malformed?.reason ?? '', new RegExp(`type 0x${type.toString(16)} is not decoded`), where);
        assert.ok(pkt.net && pkt.net.kind === 'ipv4' && pkt.malformed?.offset === pkt.net.payloadOffset, `${where}: offset of the IGMP header`);
        tally.otherTypes++;
        continue;
      }
      assert.ok(m && m.kind === 'igmp', `${where}: not decoded as IGMP (${pkt.malformed?.reason})`);
      assert.deepEqual([String(m.version)], g.version, `${where}: version`);
      assert.equal(m.type, type, `${where}: type`);
      tally.fields += 2;
      if (g.max_resp.length) {
        assert.equal(m.version === 3 ? maxRespTime(m.maxResponse) : m.maxResponse, Number(g.max_resp[0]), `${where}: max response`);
        tally.fields++;
      }
      if (type === 0x22) {
        assert.deepEqual([String(m.records.length)], g.num_grp_recs, `${where}: number of group records`);
        assert.deepEqual(m.records.map((r) => String(r.recordType)), g.record_type, `${where}: record types`);
        assert.deepEqual(m.records.map((r) => r.group), g.maddr, `${where}: record groups`);
        assert.deepEqual(m.records.map((r) => String(r.sources.length)), g.num_src, `${where}: sources per record`);
        assert.deepEqual(m.records.flatMap((r) => r.sources), g.saddr, `${where}: sources`);
        tally.reports++;
        tally.records += m.records.length;
        tally.sources += g.saddr.length;
        tally.fields += 1 + m.records.length * 3 + g.saddr.length;
        continue;
      }
      assert.deepEqual([m.group], g.maddr, `${where}: group`);
      tally.fields++;
      // A v3 query may name sources (group-and-source-specific query, RFC 3376 §4.1.8): tshark
      // lists them; IgmpMessage carries no query sources (records are for reports only).
      assert.deepEqual(m.records, [], where);
      if (g.saddr.length) tally.querySourcesNotDecoded += g.saddr.length;
    }
  }
  t.diagnostic(`IGMP messages ${tally.messages}, fields compared ${tally.fields}; v3 reports ${tally.reports} with ${tally.records} records and ${tally.sources} sources; `
    + `query sources not decoded ${tally.querySourcesNotDecoded}; mtrace/mrinfo-type messages ${tally.otherTypes}; inside VXLAN/Geneve/GRE ${tally.tunnelled}`);
  assert.ok(tally.messages > 900 && tally.records > 0, JSON.stringify(tally));
});

/** tshark's frame.encap_type (wiretap WTAP_ENCAP_*) for each LINKTYPE the reader hands on. */
const WTAP_ENCAP: Record<number, string> = {
  [LINKTYPE.ETHERNET]: '1', [LINKTYPE.NULL]: '15', [LINKTYPE.RAW]: '7', 12: '7', [LINKTYPE.LINUX_SLL]: '25',
  [LINKTYPE.LINUX_SLL2]: '210', [LINKTYPE.IPV4]: '129', [LINKTYPE.IPV6]: '130', [LINKTYPE.NFLOG]: '141',
  127: '23', 105: '20', 9: '4', 253: '158', [LINKTYPE.PCAPNG_CUSTOM_BLOCK]: '',
};

test('per capture, frames per encapsulation and per Linux cooked packet type equal tshark\'s counts', async (t) => {
  let files = 0, frames = 0, sllFrames = 0;
  for (const e of entries) {
    // The reader does not inflate zstd; files tshark itself reads with an error are the
    // reader's tests (test/unit/source), not the decoders'.
    if (e.localPath.endsWith('.zst') || e.exercises.includes('tshark-read-error')) continue;
    const truth = tsharkTruth(e);
    const decoded = await decodeAll(e);
    if (!decoded) continue;
    const encaps: Record<string, number> = {};
    const pkttypes: Record<string, number> = {};
    for (const { pkt } of decoded.values()) {
      const enc = WTAP_ENCAP[pkt.frame.linkType];
      assert.ok(enc !== undefined, `${e.localPath}: link type ${pkt.frame.linkType} has no mapping here`);
      encaps[enc] = (encaps[enc] ?? 0) + 1;
      if (pkt.link && pkt.link.sllPacketType >= 0) pkttypes[pkt.link.sllPacketType] = (pkttypes[pkt.link.sllPacketType] ?? 0) + 1;
    }
    assert.deepEqual(encaps, truth.encap_types, `${e.localPath}: frames per encapsulation`);
    assert.deepEqual(pkttypes, truth.sll_pkttypes ?? {}, `${e.localPath}: frames per SLL packet type`);
    files++;
    frames += decoded.size;
    sllFrames += Object.values(pkttypes).reduce((a, b) => a + b, 0);
  }
  t.diagnostic(`captures ${files}, frames ${frames}, Linux cooked frames ${sllFrames}`);
  assert.ok(files > 400, `only ${files} captures`);
});
