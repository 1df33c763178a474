/**
 * Versioned schema. Each migration runs once, in order, inside a transaction; PRAGMA user_version
 * records how far a database has come. Never edit a released migration: add the next one.
 */
import { PROTOCOLS } from '../protocols.js';

const CORE: string[] = [
  // 1: captures, warnings, flows, hosts, findings
  `
  CREATE TABLE captures (
    id INTEGER PRIMARY KEY,
    file TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT,
    format TEXT,
    compressed INTEGER NOT NULL DEFAULT 0,
    link_types TEXT NOT NULL DEFAULT '[]',
    frames INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    first_ts INTEGER,
    last_ts INTEGER,
    damaged INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0,
    stats TEXT NOT NULL DEFAULT '{}',
    analyzed_at TEXT NOT NULL
  );
  CREATE INDEX captures_sha ON captures(sha256);
  CREATE TABLE warnings (
    id INTEGER PRIMARY KEY,
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    byte_offset INTEGER NOT NULL,
    frame INTEGER,
    message TEXT NOT NULL
  );
  CREATE INDEX warnings_capture ON warnings(capture_id);
  CREATE TABLE flows (
    id INTEGER PRIMARY KEY,
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    protocol INTEGER NOT NULL,
    src_ip TEXT NOT NULL, src_port INTEGER NOT NULL,
    dst_ip TEXT NOT NULL, dst_port INTEGER NOT NULL,
    first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,
    first_frame INTEGER NOT NULL, last_frame INTEGER NOT NULL,
    packets_fwd INTEGER NOT NULL, packets_rev INTEGER NOT NULL,
    bytes_fwd INTEGER NOT NULL, bytes_rev INTEGER NOT NULL,
    payload_fwd INTEGER NOT NULL, payload_rev INTEGER NOT NULL,
    state TEXT NOT NULL,
    tcp TEXT,
    icmp_errors TEXT,
    community_id TEXT,
    app TEXT
  );
  CREATE UNIQUE INDEX flows_capture_idx ON flows(capture_id, idx);
  CREATE INDEX flows_capture_app ON flows(capture_id, app);
  CREATE INDEX flows_capture_ts ON flows(capture_id, first_ts);
  CREATE INDEX flows_endpoints ON flows(capture_id, dst_ip, dst_port);
  CREATE TABLE hosts (
    capture_id INTEGER NOT NULL REFERENCES captures(id) ON DELETE CASCADE,
    ip TEXT NOT NULL,
    packets_sent INTEGER NOT NULL, packets_received INTEGER NOT NULL,
    bytes_sent INTEGER NOT NULL, bytes_received INTEGER NOT NULL,
    flows INTEGER NOT NULL,
    first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL,
    PRIMARY KEY (capture_id, ip)
  );
  CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    capture_id INTEGER REFERENCES captures(id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    title TEXT NOT NULL,
    explanation TEXT NOT NULL,
    mitigation TEXT NOT NULL,
    frames TEXT NOT NULL,
    first_ts INTEGER,
    subject TEXT NOT NULL,
    details TEXT NOT NULL
  );
  CREATE INDEX findings_capture ON findings(capture_id, severity);
  CREATE INDEX findings_code ON findings(code);
  `,
];

/**
 * Changes after the first schema, appended in order (the protocol modules' migrations keep their
 * numbers). Each says what it changes and why.
 */
export const LATER: string[] = [
  // The FTP tables' capture_id indexes repeat the first column of their primary keys, which
  // serve the same look-ups (and the cascade from captures): one B-tree less per row written,
  // ~10 % of the time FTP rows take to store on the benchmark capture.
  `
  DROP INDEX IF EXISTS ftp_sessions_capture;
  DROP INDEX IF EXISTS ftp_commands_capture;
  DROP INDEX IF EXISTS ftp_channels_capture;
  `,
];

/** Core tables first, then one migration per protocol module in PROTOCOLS order, then the later ones. */
export const MIGRATIONS: string[] = [...CORE, ...PROTOCOLS.map((p) => p.migration), ...LATER];
