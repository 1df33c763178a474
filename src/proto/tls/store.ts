/**
 * TLS facts in SQLite: one row per handshake keyed by (capture, flow) so it joins `flows.idx`
 * and the FTP tables' data flows; certificates once per capture by SHA-256 fingerprint, with the
 * DER kept; the chain of each handshake as ordered rows; alerts as rows. Lists nobody queries
 * by (extensions, messages, ticket ids) live in a JSON column.
 */
import type { Db } from '../../store/db.js';
import type { FactSet } from '../../analysis/context.js';
import type { TlsHandshakeFact } from './facts.js';

export const TLS_MIGRATION = `
  CREATE TABLE tls_handshakes (
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    flow INTEGER NOT NULL,
    origin TEXT NOT NULL,
    client TEXT NOT NULL, client_port INTEGER NOT NULL,
    server TEXT NOT NULL, server_port INTEGER NOT NULL,
    first_frame INTEGER NOT NULL, first_ts INTEGER NOT NULL, last_frame INTEGER NOT NULL, last_ts INTEGER NOT NULL,
    client_hello_frame INTEGER, client_hello_ts INTEGER, server_hello_frame INTEGER, server_hello_ts INTEGER,
    sni TEXT, alpn TEXT,
    version INTEGER, version_name TEXT, cipher_suite INTEGER, cipher TEXT,
    record_version INTEGER, client_version INTEGER,
    hrr INTEGER NOT NULL, hrr_frame INTEGER,
    client_session_id TEXT NOT NULL, server_session_id TEXT,
    offered_ticket INTEGER NOT NULL, offered_psk INTEGER NOT NULL, psk_accepted INTEGER NOT NULL,
    resumed INTEGER, resumed_from_flow INTEGER, resumed_by TEXT,
    ja3 TEXT, ja3_string TEXT, ja3s TEXT, ja3s_string TEXT, ja4 TEXT,
    certs_seen TEXT NOT NULL,
    state TEXT NOT NULL, failure TEXT,
    app_records_client INTEGER NOT NULL, app_records_server INTEGER NOT NULL,
    app_bytes_client INTEGER NOT NULL, app_bytes_server INTEGER NOT NULL,
    decrypted TEXT NOT NULL, decrypt_note TEXT,
    malformed TEXT,
    detail TEXT NOT NULL,
    PRIMARY KEY (capture_id, flow)
  );
  CREATE INDEX tls_handshakes_capture ON tls_handshakes(capture_id, client_hello_frame);
  CREATE INDEX tls_handshakes_sni ON tls_handshakes(capture_id, sni);
  CREATE INDEX tls_handshakes_ja3 ON tls_handshakes(ja3);
  CREATE TABLE tls_certificates (
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    subject TEXT NOT NULL, issuer TEXT NOT NULL, common_name TEXT,
    san_dns TEXT NOT NULL, san_ip TEXT NOT NULL, san_email TEXT NOT NULL,
    valid_from INTEGER, valid_to INTEGER,
    key_type TEXT NOT NULL, key_bits INTEGER, curve TEXT,
    signature_algorithm TEXT NOT NULL, weak_signature INTEGER NOT NULL,
    serial_number TEXT NOT NULL, self_signed INTEGER NOT NULL, is_ca INTEGER, version INTEGER NOT NULL,
    parse_error TEXT, first_frame INTEGER NOT NULL,
    der BLOB NOT NULL,
    PRIMARY KEY (capture_id, sha256)
  );
  CREATE INDEX tls_certificates_sha ON tls_certificates(sha256);
  CREATE TABLE tls_handshake_certs (
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    flow INTEGER NOT NULL,
    sender TEXT NOT NULL,
    position INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (capture_id, flow, sender, position)
  );
  CREATE INDEX tls_handshake_certs_sha ON tls_handshake_certs(capture_id, sha256);
  CREATE TABLE tls_alerts (
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    flow INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    frame INTEGER NOT NULL, ts INTEGER NOT NULL,
    sender TEXT NOT NULL,
    level INTEGER, description INTEGER, level_name TEXT NOT NULL, description_name TEXT NOT NULL,
    visibility TEXT NOT NULL, during_handshake INTEGER NOT NULL,
    PRIMARY KEY (capture_id, flow, seq)
  );
  CREATE INDEX tls_alerts_capture ON tls_alerts(capture_id, description);
`;

const round = (v: number): number => Math.round(v);
const bool = (v: boolean | null): number | null => (v === null ? null : v ? 1 : 0);
const roundOrNull = (v: number | null): number | null => (v === null ? null : Math.round(v));

/** The handshake's lists and sub-records without their own columns. */
export interface HandshakeDetail {
  offeredVersions: number[];
  offeredCipherCount: number;
  clientExtensions: number[];
  serverExtensions: number[];
  alpnOffered: string[];
  sslv2ClientHello: boolean;
  offeredTicketId: string | null;
  pskIdentityIds: string[];
  issuedTicketIds: string[];
  extendedMasterSecret: boolean;
  messages: TlsHandshakeFact['messages'];
  messagesDropped: number;
}

function detail(h: TlsHandshakeFact): HandshakeDetail {
  return {
    offeredVersions: h.offeredVersions, offeredCipherCount: h.offeredCipherCount, clientExtensions: h.clientExtensions,
    serverExtensions: h.serverExtensions, alpnOffered: h.alpnOffered, sslv2ClientHello: h.sslv2ClientHello,
    offeredTicketId: h.offeredTicketId, pskIdentityIds: h.pskIdentityIds, issuedTicketIds: h.issuedTicketIds,
    extendedMasterSecret: h.extendedMasterSecret, messages: h.messages.map((m) => ({ ...m, ts: round(m.ts) })),
    messagesDropped: h.messagesDropped,
  };
}

export function writeTlsFacts(db: Db, captureId: number, facts: FactSet): void {
  const t = facts.tls;
  const insHandshake = db.prepare(`INSERT INTO tls_handshakes (capture_id, flow, origin, client, client_port, server, server_port,
    first_frame, first_ts, last_frame, last_ts, client_hello_frame, client_hello_ts, server_hello_frame, server_hello_ts,
    sni, alpn, version, version_name, cipher_suite, cipher, record_version, client_version, hrr, hrr_frame,
    client_session_id, server_session_id, offered_ticket, offered_psk, psk_accepted, resumed, resumed_from_flow, resumed_by,
    ja3, ja3_string, ja3s, ja3s_string, ja4, certs_seen, state, failure, app_records_client, app_records_server,
    app_bytes_client, app_bytes_server, decrypted, decrypt_note, malformed, detail)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  const insCert = db.prepare(`INSERT OR IGNORE INTO tls_certificates (capture_id, sha256, subject, issuer, common_name, san_dns, san_ip,
    san_email, valid_from, valid_to, key_type, key_bits, curve, signature_algorithm, weak_signature, serial_number, self_signed,
    is_ca, version, parse_error, first_frame, der) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  const insChain = db.prepare(`INSERT INTO tls_handshake_certs (capture_id, flow, sender, position, sha256) VALUES (?,?,?,?,?)`);
  const insAlert = db.prepare(`INSERT INTO tls_alerts (capture_id, flow, seq, frame, ts, sender, level, description, level_name,
    description_name, visibility, during_handshake) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`);
  for (const c of t.certificates) {
    insCert.run(captureId, c.sha256, c.subject, c.issuer, c.subjectCommonName, JSON.stringify(c.sanDns), JSON.stringify(c.sanIp),
      JSON.stringify(c.sanEmail), c.parseError ? null : c.validFrom, c.parseError ? null : c.validTo, c.keyType, c.keyBits, c.curve,
      c.signatureAlgorithm, c.weakSignature ? 1 : 0, c.serialNumber, c.selfSigned ? 1 : 0, bool(c.isCa), c.version, c.parseError,
      c.firstFrame, c.der);
  }
  for (const h of t.handshakes) {
    insHandshake.run(captureId, h.flow, h.origin, h.client, h.clientPort, h.server, h.serverPort,
      h.firstFrame, round(h.firstTs), h.lastFrame, round(h.lastTs), h.clientHelloFrame, roundOrNull(h.clientHelloTs),
      h.serverHelloFrame, roundOrNull(h.serverHelloTs), h.sni, h.alpn, h.version, h.versionName, h.cipherSuite, h.cipher,
      h.recordVersion, h.clientVersion, h.hrr ? 1 : 0, h.hrrFrame, h.clientSessionId, h.serverSessionId,
      h.offeredTicket ? 1 : 0, h.offeredPsk ? 1 : 0, h.pskAccepted ? 1 : 0, bool(h.resumed),
      h.resumptionSource?.flow ?? null, h.resumptionSource?.by ?? null, h.ja3, h.ja3String, h.ja3s, h.ja3sString, h.ja4,
      h.certsSeen, h.state, h.failure ? JSON.stringify({ ...h.failure, ts: round(h.failure.ts) }) : null,
      h.appRecords[0], h.appRecords[1], h.appBytes[0], h.appBytes[1], h.decrypted, h.decryptNote,
      h.malformed ? JSON.stringify(h.malformed) : null, JSON.stringify(detail(h)));
    h.certs.forEach((sha, i) => insChain.run(captureId, h.flow, 'server', i, sha));
    h.clientCerts.forEach((sha, i) => insChain.run(captureId, h.flow, 'client', i, sha));
    h.alerts.forEach((a, i) => insAlert.run(captureId, h.flow, i, a.frame, round(a.ts), a.from, a.level, a.description,
      a.levelName, a.descriptionName, a.visibility, a.duringHandshake ? 1 : 0));
  }
}
