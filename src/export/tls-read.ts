/**
 * TLS handshakes for exports. They come from the TLS module's `tls` JSON section (built from
 * SQLite like every section), read defensively: FINDINGS.md guarantees frame, client, server,
 * sni, version, cipher, ja3, ja4, resumed and certs; state, failure, alerts and times are used
 * when present. Without a TLS module (or an older database) there are simply no handshakes.
 */
import type { Db } from '../store/db.js';
import { PROTOCOLS } from '../protocols.js';
import { materialize } from '../store/json-stream.js';
import { arr, num, obj, str, type Json } from './sqlite.js';
import { parseTimeArg } from './time.js';
import type { FlowIndex } from './flows.js';

export interface TlsAlertView { frame: number | null; ts: number | null; from: string | null; level: string | null; description: string | null }

export interface TlsHandshakeView {
  flow: number | null;
  frame: number | null;
  ts: number | null;
  client: string | null;
  clientPort: number | null;
  server: string | null;
  serverPort: number | null;
  sni: string | null;
  version: string | null;
  cipher: string | null;
  ja3: string | null;
  ja4: string | null;
  resumed: boolean | null;
  state: string | null;
  failure: string | null;
  failureFrame: number | null;
  alerts: TlsAlertView[];
  certs: number;
}

/** A time in a section: µs number, or an ISO string as isoTime writes them. */
function time(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') return parseTimeArg(v);
  return null;
}

function text(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  const o = obj(v);
  return o ? str(o.name) ?? str(o.text) ?? null : null;
}

function handshake(h: Json, flows: FlowIndex): TlsHandshakeView {
  const flow = num(h.flow);
  const f = flows.get(flow);
  const failure = obj(h.failure);
  const alerts = arr(h.alerts).map(obj).filter((a): a is Json => a !== null).map((a) => ({
    frame: num(a.frame), ts: time(a.ts), from: str(a.from),
    level: str(a.levelName) ?? text(a.level), description: str(a.descriptionName) ?? text(a.description),
  }));
  return {
    flow, frame: num(h.frame) ?? num(h.clientHelloFrame) ?? num(h.firstFrame),
    ts: time(h.clientHelloTs) ?? time(h.firstTs) ?? time(h.ts) ?? f?.firstTs ?? null,
    client: str(h.client) ?? f?.src ?? null, clientPort: num(h.clientPort) ?? f?.srcPort ?? null,
    server: str(h.server) ?? f?.dst ?? null, serverPort: num(h.serverPort) ?? f?.dstPort ?? null,
    sni: str(h.sni), version: text(h.version) ?? str(h.versionName), cipher: text(h.cipher), ja3: str(h.ja3), ja4: str(h.ja4),
    resumed: typeof h.resumed === 'boolean' ? h.resumed : null, state: str(h.state),
    failure: failure ? str(failure.reason) ?? str(failure.kind) : str(h.failure), failureFrame: num(failure?.frame),
    alerts, certs: arr(h.certs).length,
  };
}

export function readTls(db: Db, captureId: number, flows: FlowIndex): TlsHandshakeView[] {
  const doc = PROTOCOLS.map((p) => p.document).find((d) => d?.key === 'tls');
  if (!doc) return [];
  let section: unknown;
  try {
    // The section's list is lazy (read in batches): read it whole here, where the rows are wanted.
    section = materialize(doc.section(db, [captureId], { showPasswords: false }));
  } catch {
    // A TLS module whose tables this database predates: no handshakes rather than no export.
    return [];
  }
  return arr(obj(section)?.handshakes).map(obj).filter((h): h is Json => h !== null)
    .filter((h) => h.capture === undefined || h.capture === captureId)
    .map((h) => handshake(h, flows));
}
