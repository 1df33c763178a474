import type { Db } from './db.js';
import type { FactSet } from '../analysis/context.js';

/** Writers for protocol fact sections (FTP sessions, TLS handshakes, NLB clusters), run inside the capture's final transaction. */
export type FactWriter = (db: Db, captureId: number, facts: FactSet) => void;
export const FACT_WRITERS: FactWriter[] = [];

export function writeProtocolFacts(db: Db, captureId: number, facts: FactSet): void {
  for (const w of FACT_WRITERS) w(db, captureId, facts);
}
