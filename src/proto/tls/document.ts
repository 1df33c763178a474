/**
 * The `tls` section of the `--json` document, read back from SQLite: FINDINGS.md's contract
 * (frame, client, server, sni, version, cipher, ja3, ja4, resumed, certs) plus what the web
 * view and a reader use: ports, time, JA3S, ALPN, alerts, the outcome and the decryption
 * verdict. Versions and ciphers by name; certificates with their parsed fields.
 */
import type { Db } from '../../store/db.js';
import { DOCUMENT_BATCH, isoTime as coreIsoTime, type DocumentOptions } from '../../store/queries.js';
import { concatLazy, inBatches, inOrder } from '../../store/json-stream.js';
import type { HandshakeDetail } from './store.js';
import { extensionName, versionName } from './names.js';

interface HandshakeRow {
  flow: number; origin: string; client: string; client_port: number; server: string; server_port: number;
  first_frame: number; first_ts: number; last_frame: number; last_ts: number;
  client_hello_frame: number | null; client_hello_ts: number | null; server_hello_frame: number | null; server_hello_ts: number | null;
  sni: string | null; alpn: string | null; version: number | null; version_name: string | null; cipher_suite: number | null; cipher: string | null;
  record_version: number | null; client_version: number | null; hrr: number; hrr_frame: number | null;
  client_session_id: string; server_session_id: string | null; offered_ticket: number; offered_psk: number; psk_accepted: number;
  resumed: number | null; resumed_from_flow: number | null; resumed_by: string | null;
  ja3: string | null; ja3_string: string | null; ja3s: string | null; ja3s_string: string | null; ja4: string | null;
  certs_seen: string; state: string; failure: string | null;
  app_records_client: number; app_records_server: number; app_bytes_client: number; app_bytes_server: number;
  decrypted: string; decrypt_note: string | null; malformed: string | null; detail: string;
}

interface CertRow {
  sha256: string; subject: string; issuer: string; common_name: string | null; san_dns: string; san_ip: string; san_email: string;
  valid_from: number | null; valid_to: number | null; key_type: string; key_bits: number | null; curve: string | null;
  signature_algorithm: string; weak_signature: number; serial_number: string; self_signed: number; is_ca: number | null;
  version: number; parse_error: string | null; first_frame: number;
}

interface ChainRow { flow: number; sender: string; position: number; sha256: string }
interface AlertRow {
  flow: number; frame: number; ts: number; sender: string; level: number | null; description: number | null;
  level_name: string; description_name: string; visibility: string; during_handshake: number;
}

function certJson(sha256: string, c: CertRow | undefined): Record<string, unknown> {
  if (!c) return { sha256 };
  const out: Record<string, unknown> = {
    subject: c.subject, issuer: c.issuer, commonName: c.common_name,
    sanDns: JSON.parse(c.san_dns) as string[], sanIp: JSON.parse(c.san_ip) as string[],
    validFrom: isoTime(c.valid_from), validTo: isoTime(c.valid_to),
    keyType: c.key_type, keyBits: c.key_bits, curve: c.curve, signatureAlgorithm: c.signature_algorithm,
    sha256: c.sha256, serialNumber: c.serial_number, selfSigned: c.self_signed === 1,
    isCa: c.is_ca === null ? null : c.is_ca === 1, weakSignature: c.weak_signature === 1, version: c.version,
  };
  const email = JSON.parse(c.san_email) as string[];
  if (email.length > 0) out.sanEmail = email;
  if (c.parse_error) out.parseError = c.parse_error;
  return out;
}

/** ISO time, or null for a time Date cannot hold (a corrupt frame time, a certificate's odd date). */
function isoTime(us: number | null): string | null {
  if (us === null || !Number.isFinite(us) || Math.abs(us) > 8.64e18) return null;
  return coreIsoTime(us);
}

function failureJson(text: string): Record<string, unknown> {
  const f = JSON.parse(text) as Record<string, unknown> & { ts: number };
  return { ...f, ts: isoTime(f.ts) };
}

const ext = (type: number): { type: number; name: string } => ({ type, name: extensionName(type) });

const hex4 = (v: number | null): string | null => (v === null ? null : `0x${v.toString(16).padStart(4, '0')}`);

export function tlsDocument(db: Db, captureIds: number[], opts: DocumentOptions): { handshakes: Iterable<Record<string, unknown>> } {
  const order = db.prepare(`SELECT flow FROM tls_handshakes WHERE capture_id = ? ORDER BY COALESCE(client_hello_frame, first_frame), flow`).pluck();
  const handshakeRows = db.prepare(`SELECT * FROM tls_handshakes WHERE capture_id = ? AND flow IN (SELECT value FROM json_each(?))`);
  const certRows = db.prepare(`SELECT * FROM tls_certificates WHERE capture_id = ?`);
  const chainRows = db.prepare(`SELECT flow, sender, position, sha256 FROM tls_handshake_certs WHERE capture_id = ? AND flow IN (SELECT value FROM json_each(?)) ORDER BY flow, sender, position`);
  const alertRows = db.prepare(`SELECT * FROM tls_alerts WHERE capture_id = ? AND flow IN (SELECT value FROM json_each(?)) ORDER BY flow, seq`);
  const batch = opts.batch ?? DOCUMENT_BATCH;
  return {
    handshakes: concatLazy(captureIds.map((cid) => {
      // Certificates are few (the registry caps them) and shared between handshakes: read once per capture.
      const certs = new Map((certRows.all(cid) as CertRow[]).map((c) => [c.sha256, c]));
      return inBatches(order.all(cid) as number[], batch, (flows) => {
        const list = JSON.stringify(flows);
        const chains = new Map<string, string[]>();
        for (const r of chainRows.all(cid, list) as ChainRow[]) {
          const key = `${r.flow}|${r.sender}`;
          const l = chains.get(key) ?? [];
          l.push(r.sha256);
          chains.set(key, l);
        }
        const alerts = new Map<number, Array<Record<string, unknown>>>();
        for (const a of alertRows.all(cid, list) as AlertRow[]) {
          const l = alerts.get(a.flow) ?? [];
          l.push({ frame: a.frame, ts: isoTime(a.ts), from: a.sender, level: a.level_name, description: a.description_name,
            levelCode: a.level, descriptionCode: a.description, visibility: a.visibility, duringHandshake: a.during_handshake === 1 });
          alerts.set(a.flow, l);
        }
        const rows = inOrder(flows, handshakeRows.all(cid, list) as HandshakeRow[], (r) => r.flow);
        return rows.map((r) => handshake(cid, r, certs, chains, alerts));
      });
    })),
  };
}

function handshake(cid: number, r: HandshakeRow, certs: Map<string, CertRow>, chains: Map<string, string[]>,
  alerts: Map<number, Array<Record<string, unknown>>>): Record<string, unknown> {
  const d = JSON.parse(r.detail) as HandshakeDetail;
  return {
    capture: cid, flow: r.flow, origin: r.origin,
    frame: r.client_hello_frame ?? r.first_frame, ts: isoTime(r.client_hello_ts ?? r.first_ts),
    client: r.client, clientPort: r.client_port, server: r.server, serverPort: r.server_port,
    sni: r.sni, version: r.version_name, versionCode: hex4(r.version), cipher: r.cipher, cipherCode: hex4(r.cipher_suite),
    alpn: r.alpn, alpnOffered: d.alpnOffered,
    ja3: r.ja3, ja3s: r.ja3s, ja4: r.ja4, ja3String: r.ja3_string, ja3sString: r.ja3s_string,
    resumed: r.resumed === null ? null : r.resumed === 1,
    resumedFrom: r.resumed_from_flow === null ? null : { flow: r.resumed_from_flow, by: r.resumed_by },
    sessionId: r.client_session_id || null, serverSessionId: r.server_session_id || null,
    offeredTicket: r.offered_ticket === 1, offeredPsk: r.offered_psk === 1, pskAccepted: r.psk_accepted === 1,
    hrr: r.hrr === 1, hrrFrame: r.hrr_frame,
    clientHelloFrame: r.client_hello_frame, serverHelloFrame: r.server_hello_frame,
    offeredVersions: d.offeredVersions.map(versionName),
    clientExtensions: d.clientExtensions.map(ext), serverExtensions: d.serverExtensions.map(ext),
    state: r.state, failure: r.failure ? failureJson(r.failure) : null,
    certsSeen: r.certs_seen,
    certs: (chains.get(`${r.flow}|server`) ?? []).map((sha) => certJson(sha, certs.get(sha))),
    clientCerts: (chains.get(`${r.flow}|client`) ?? []).map((sha) => certJson(sha, certs.get(sha))),
    alerts: alerts.get(r.flow) ?? [],
    messages: d.messages.map((m) => ({ from: m.from, name: m.name, frame: m.frame, decrypted: m.decrypted })),
    appBytes: { client: r.app_bytes_client, server: r.app_bytes_server },
    decrypted: r.decrypted, decryptNote: r.decrypt_note,
    malformed: r.malformed ? JSON.parse(r.malformed) as unknown : null,
    firstFrame: r.first_frame, lastFrame: r.last_frame,
  };
}
