import type { Db } from './db.js';
import type { FactSet } from '../analysis/context.js';

/** Writers for protocol fact sections (FTP sessions, TLS handshakes, NLB clusters), run inside the capture's final transaction. */
export type FactWriter = (db: Db, captureId: number, facts: FactSet) => void;
export function writeProtocolFacts(db: Db, captureId: number, facts: FactSet, writers: Array<FactWriter | null>): void {
  for (const w of writers) w?.(db, captureId, facts);
}
