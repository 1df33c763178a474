/**
 * One captured record, as every source (pcap, pcapng, live) hands it to the decoders.
 *
 * Timestamps are microseconds since the Unix epoch as a JS number (one choice everywhere).
 * Nanosecond captures keep their fraction (ts may be non-integer); a double holds epoch
 * microseconds to about 0.25 µs, which is finer than any clock that wrote these files.
 */
export interface Frame {
  /** 1-based, as Wireshark numbers frames. */
  no: number;
  /** Microseconds since 1970-01-01T00:00:00Z. */
  ts: number;
  /** LINKTYPE_* value (tcpdump.org numbering). */
  linkType: number;
  caplen: number;
  origLen: number;
  /** Captured bytes. A view into the reader's chunk: copy what you keep beyond the callback. */
  data: Buffer;
  /** pcapng interface id within its section (0 for classic pcap). */
  iface: number;
  /** pcapng Simple Packet Blocks carry no timestamp: ts then repeats the previous frame's. */
  noTimestamp?: boolean;
  /** Byte offset of the record (header included) in the (decompressed) input. */
  offset: number;
}

/** A problem in the input, always tied to a byte offset so a user can find it with a hex editor. */
export interface SourceWarning {
  offset: number;
  message: string;
}

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
  /** Not a link type: a pcapng custom block, which Wireshark lists (and numbers) as a frame. */
  PCAPNG_CUSTOM_BLOCK: -1,
  NFLOG: 239,
} as const;
