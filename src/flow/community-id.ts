import { createHash } from 'node:crypto';
import { parseIp } from '../decode/addr.js';
import { flatString } from '../decode/bytes.js';

/** ICMP type pairs that make a two-way "conversation" (Community ID spec, v1). */
const ICMP4_PAIRS: Record<number, number> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 9: 10, 17: 18, 18: 17 };
const ICMP6_PAIRS: Record<number, number> = { 128: 129, 129: 128, 139: 140, 140: 139, 133: 134, 134: 133, 135: 136, 136: 135, 130: 131, 131: 130, 144: 145, 145: 144 };

/**
 * Community ID v1 (corelight/community-id-spec): a flow hash every tool computes alike, so a
 * finding here can be joined with Zeek, Suricata or Arkime records of the same connection.
 * For ICMP, srcPort/dstPort carry type and code.
 */
export function communityId(src: string, dst: string, protocol: number, srcPort: number, dstPort: number, seed = 0): string {
  const s = parseIp(src), d = parseIp(dst);
  if (!s || !d) return '';
  let sp = srcPort, dp = dstPort;
  let oneWay = false;
  if (protocol === 1 || protocol === 58) {
    const pairs = protocol === 1 ? ICMP4_PAIRS : ICMP6_PAIRS;
    const type = srcPort, code = dstPort;
    sp = type;
    if (type in pairs) dp = pairs[type];
    else { dp = code; oneWay = true; }
  }
  const hasPorts = protocol === 6 || protocol === 17 || protocol === 132 || protocol === 1 || protocol === 58;
  const cmp = Buffer.compare(s, d);
  const ordered = oneWay || cmp < 0 || (cmp === 0 && sp <= dp);
  const [a, b, pa, pb] = ordered ? [s, d, sp, dp] : [d, s, dp, sp];
  const parts = [Buffer.from([seed >> 8, seed & 0xff]), a, b, Buffer.from([protocol, 0])];
  if (hasPorts) parts.push(Buffer.from([pa >> 8, pa & 0xff, pb >> 8, pb & 0xff]));
  // Kept by every flow until it ends: one flat string, not '1:' and the digest as two pieces.
  return flatString('1:' + createHash('sha1').update(Buffer.concat(parts)).digest('base64'));
}
