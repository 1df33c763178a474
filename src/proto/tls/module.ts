import type { ProtocolModule } from '../../protocols.js';
import { tlsAnalyzer } from './analyzer.js';
import { TLS_MIGRATION, writeTlsFacts } from './store.js';
import { tlsDocument } from './document.js';
import { TLS_CERT_SELF_SIGNED } from '../../findings/rules/tls-cert-self-signed.js';
import { TLS_CERT_EXPIRED } from '../../findings/rules/tls-cert-expired.js';
import { TLS_CERT_NOT_YET_VALID } from '../../findings/rules/tls-cert-not-yet-valid.js';
import { TLS_CERT_NAME_MISMATCH } from '../../findings/rules/tls-cert-name-mismatch.js';
import { TLS_WEAK_VERSION } from '../../findings/rules/tls-weak-version.js';
import { TLS_WEAK_CIPHER } from '../../findings/rules/tls-weak-cipher.js';
import { TLS_HANDSHAKE_FAILED } from '../../findings/rules/tls-handshake-failed.js';
import { TLS_NONSTANDARD_PORT } from '../../findings/rules/tls-nonstandard-port.js';

/** TLS: the analyzer (content, STARTTLS and FTPS hand-off), its findings, its tables and the `tls` JSON section. */
export const TLS_MODULE: ProtocolModule = {
  name: 'tls',
  analyzers: [tlsAnalyzer],
  rules: [
    TLS_CERT_SELF_SIGNED, TLS_CERT_EXPIRED, TLS_CERT_NOT_YET_VALID, TLS_CERT_NAME_MISMATCH, TLS_WEAK_VERSION, TLS_WEAK_CIPHER,
    TLS_HANDSHAKE_FAILED, TLS_NONSTANDARD_PORT,
  ],
  migration: TLS_MIGRATION,
  writeFacts: writeTlsFacts,
  document: { key: 'tls', section: tlsDocument },
};
