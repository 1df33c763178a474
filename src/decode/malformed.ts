/** What every decoder returns instead of throwing: where the bytes stopped making sense. */
export interface Malformed {
  kind: 'malformed';
  layer: string;
  /** Offset within the frame's captured bytes. */
  offset: number;
  reason: string;
}

export function malformed(layer: string, offset: number, reason: string): Malformed {
  return { kind: 'malformed', layer, offset, reason };
}
