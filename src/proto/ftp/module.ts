import type { ProtocolModule } from '../../protocols.js';
import { ftpAnalyzer } from './analyzer.js';
import { FTP_MIGRATION, writeFtpFacts } from './store.js';
import { ftpDocument } from './document.js';
import { FTP_CLEARTEXT_LOGIN } from '../../findings/rules/ftp-cleartext-login.js';
import { FTP_ANONYMOUS_LOGIN } from '../../findings/rules/ftp-anonymous-login.js';
import { FTP_ACTIVE_MODE } from '../../findings/rules/ftp-active-mode.js';
import { FTP_PASV_PRIVATE_ADDRESS } from '../../findings/rules/ftp-pasv-private-address.js';
import { FTP_PORT_PRIVATE_ADDRESS } from '../../findings/rules/ftp-port-private-address.js';
import { FTP_DATA_CONNECT_FAILED } from '../../findings/rules/ftp-data-connect-failed.js';
import { FTP_DATA_SOURCE_MISMATCH } from '../../findings/rules/ftp-data-source-mismatch.js';
import { FTP_DATA_TO_UNANNOUNCED_ADDRESS } from '../../findings/rules/ftp-data-to-unannounced-address.js';
import { FTP_PASV_PORT_OUT_OF_RANGE } from '../../findings/rules/ftp-pasv-port-out-of-range.js';
import { FTP_TRANSFER_FAILED } from '../../findings/rules/ftp-transfer-failed.js';
import { FTPS_DATA_UNPROTECTED } from '../../findings/rules/ftps-data-unprotected.js';
import { FTPS_CLEAR_COMMAND_CHANNEL } from '../../findings/rules/ftps-clear-command-channel.js';
import { FTPS_SESSION_REUSE_MISSING } from '../../findings/rules/ftps-session-reuse-missing.js';
import { FTPS_NAT_BLIND } from '../../findings/rules/ftps-nat-blind.js';
import { FTP_UNTRUSTED_PEER } from '../../findings/rules/ftp-untrusted-peer.js';

/** FTP and FTPS: the control/data analyzer, its findings, its tables and the `ftp` JSON section. */
export const FTP_MODULE: ProtocolModule = {
  name: 'ftp',
  analyzers: [ftpAnalyzer],
  rules: [
    FTP_CLEARTEXT_LOGIN, FTP_ANONYMOUS_LOGIN, FTP_ACTIVE_MODE, FTP_PASV_PRIVATE_ADDRESS, FTP_PORT_PRIVATE_ADDRESS,
    FTP_DATA_CONNECT_FAILED, FTP_DATA_SOURCE_MISMATCH, FTP_DATA_TO_UNANNOUNCED_ADDRESS, FTP_PASV_PORT_OUT_OF_RANGE,
    FTP_TRANSFER_FAILED, FTPS_DATA_UNPROTECTED, FTPS_CLEAR_COMMAND_CHANNEL, FTPS_SESSION_REUSE_MISSING, FTPS_NAT_BLIND,
    FTP_UNTRUSTED_PEER,
  ],
  migration: FTP_MIGRATION,
  writeFacts: writeFtpFacts,
  document: { key: 'ftp', section: ftpDocument },
};
