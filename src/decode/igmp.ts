import { ipv4Text } from './addr.js';
import { malformed, type Malformed } from './malformed.js';

export interface IgmpGroupRecord {
  /** 1 MODE_IS_INCLUDE .. 6 BLOCK_OLD_SOURCES (RFC 3376 §4.2.12). */
  recordType: number;
  group: string;
  sources: string[];
}

export interface IgmpMessage {
  kind: 'igmp';
  version: 1 | 2 | 3;
  /** 0x11 query, 0x12 v1 report, 0x16 v2 report, 0x17 leave, 0x22 v3 report. */
  type: number;
  /** Group of v1/v2 messages and queries ('0.0.0.0' for general queries). */
  group: string;
  maxResponse: number;
  /** v3 membership report records. */
  records: IgmpGroupRecord[];
}

/**
 * IGMP v1 (RFC 1112), v2 (RFC 2236) and v3 (RFC 3376). The version of a query follows from
 * its length and max-response field, as RFC 3376 §7.1 prescribes.
 */
export function decodeIgmp(b: Buffer, off: number, end: number): IgmpMessage | Malformed {
  const len = end - off;
  if (len < 8) return malformed('igmp', off, 'IGMP message cut short');
  const type = b[off];
  const maxResponse = b[off + 1];
  const group = ipv4Text(b, off + 4);
  switch (type) {
    case 0x11: {
      const version = len >= 12 ? 3 : maxResponse === 0 ? 1 : 2;
      return { kind: 'igmp', version, type, group, maxResponse, records: [] };
    }
    case 0x12:
      return { kind: 'igmp', version: 1, type, group, maxResponse, records: [] };
    case 0x16:
    case 0x17:
      return { kind: 'igmp', version: 2, type, group, maxResponse, records: [] };
    case 0x22: {
      const n = b.readUInt16BE(off + 6);
      const records: IgmpGroupRecord[] = [];
      let p = off + 8;
      for (let i = 0; i < n; i++) {
        if (end < p + 8) return malformed('igmp', p, `IGMPv3 group record ${i + 1} of ${n} cut short`);
        const auxWords = b[p + 1];
        const nsrc = b.readUInt16BE(p + 2);
        const rec: IgmpGroupRecord = { recordType: b[p], group: ipv4Text(b, p + 4), sources: [] };
        p += 8;
        if (end < p + nsrc * 4) return malformed('igmp', p, 'IGMPv3 source list cut short');
        for (let s = 0; s < nsrc; s++, p += 4) rec.sources.push(ipv4Text(b, p));
        if (end < p + auxWords * 4) return malformed('igmp', p, 'IGMPv3 auxiliary data cut short');
        p += auxWords * 4;
        records.push(rec);
      }
      return { kind: 'igmp', version: 3, type, group: '0.0.0.0', maxResponse: 0, records };
    }
    default:
      return malformed('igmp', off, `IGMP type 0x${type.toString(16)} is not decoded`);
  }
}
