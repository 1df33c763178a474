/**
 * The FTP vocabulary: which command verbs exist, which of them answer over a data
 * connection, and what the reply codes that matter for diagnosis mean.
 */

export interface CommandInfo {
  verb: string;
  /** Where the command is defined ("RFC 959", "RFC 2228", "non-standard", ...). */
  spec: string;
  summary: string;
  /** The command's real output travels over a separate data connection. */
  dataResponse: boolean;
}

// [verb, spec, summary, dataResponse]
type Row = readonly [string, string, string, boolean?];

const ROWS: readonly Row[] = [
  // RFC 959 access control
  ['USER', 'RFC 959', 'user name'],
  ['PASS', 'RFC 959', 'password'],
  ['ACCT', 'RFC 959', 'account'],
  ['CWD', 'RFC 959', 'change working directory'],
  ['CDUP', 'RFC 959', 'change to parent directory'],
  ['SMNT', 'RFC 959', 'structure mount'],
  ['REIN', 'RFC 959', 'reinitialize'],
  ['QUIT', 'RFC 959', 'logout'],
  // RFC 959 transfer parameters
  ['PORT', 'RFC 959', 'active mode: client announces address and port'],
  ['PASV', 'RFC 959', 'passive mode: server announces address and port'],
  ['TYPE', 'RFC 959', 'representation type'],
  ['STRU', 'RFC 959', 'file structure'],
  ['MODE', 'RFC 959', 'transfer mode'],
  // RFC 959 service commands; the data-connection set is Wireshark's `cmd_resp_is_data`.
  ['RETR', 'RFC 959', 'retrieve (download) a file', true],
  ['STOR', 'RFC 959', 'store (upload) a file', true],
  ['STOU', 'RFC 959', 'store under a unique name', true],
  ['APPE', 'RFC 959', 'append to a file', true],
  ['ALLO', 'RFC 959', 'allocate storage'],
  ['REST', 'RFC 959', 'restart marker (RFC 3659: REST STREAM offset)'],
  ['RNFR', 'RFC 959', 'rename from'],
  ['RNTO', 'RFC 959', 'rename to'],
  ['ABOR', 'RFC 959', 'abort the transfer in progress'],
  ['DELE', 'RFC 959', 'delete a file'],
  ['RMD', 'RFC 959', 'remove a directory'],
  ['MKD', 'RFC 959', 'make a directory'],
  ['PWD', 'RFC 959', 'print working directory'],
  ['LIST', 'RFC 959', 'directory listing', true],
  ['NLST', 'RFC 959', 'name list', true],
  ['SITE', 'RFC 959', 'site-specific command'],
  ['SYST', 'RFC 959', 'system type'],
  ['STAT', 'RFC 959', 'status (over the control connection)'],
  ['HELP', 'RFC 959', 'help'],
  ['NOOP', 'RFC 959', 'no operation'],
  // RFC 775 experimental forms that RFC 959 §7 tells servers to keep accepting.
  ['XCWD', 'RFC 775', 'change working directory (old form)'],
  ['XCUP', 'RFC 775', 'change to parent directory (old form)'],
  ['XMKD', 'RFC 775', 'make a directory (old form)'],
  ['XRMD', 'RFC 775', 'remove a directory (old form)'],
  ['XPWD', 'RFC 775', 'print working directory (old form)'],
  // RFC 2228 security extensions (RFC 4217 FTPS uses AUTH/PBSZ/PROT/CCC)
  ['AUTH', 'RFC 2228', 'authentication/security mechanism (AUTH TLS starts FTPS)'],
  ['ADAT', 'RFC 2228', 'authentication/security data'],
  ['PROT', 'RFC 2228', 'data channel protection level (C, S, E, P)'],
  ['PBSZ', 'RFC 2228', 'protection buffer size'],
  ['CCC', 'RFC 2228', 'clear command channel'],
  ['MIC', 'RFC 2228', 'integrity-protected command'],
  ['CONF', 'RFC 2228', 'confidentiality-protected command'],
  ['ENC', 'RFC 2228', 'privacy-protected command'],
  // RFC 2389
  ['FEAT', 'RFC 2389', 'list server features'],
  ['OPTS', 'RFC 2389', 'set command options'],
  // RFC 2428
  ['EPRT', 'RFC 2428', 'extended active mode (IPv4 or IPv6)'],
  ['EPSV', 'RFC 2428', 'extended passive mode (port only)'],
  // RFC 1639
  ['LPRT', 'RFC 1639', 'long active mode'],
  ['LPSV', 'RFC 1639', 'long passive mode'],
  // RFC 3659
  ['SIZE', 'RFC 3659', 'file size'],
  ['MDTM', 'RFC 3659', 'file modification time'],
  ['MLST', 'RFC 3659', 'machine-readable facts for one object (control connection)'],
  ['MLSD', 'RFC 3659', 'machine-readable directory listing', true],
  // RFC 2640
  ['LANG', 'RFC 2640', 'reply language'],
  // RFC 7151
  ['HOST', 'RFC 7151', 'virtual host name'],
  // Widely implemented drafts and vendor commands, seen in real sessions.
  ['CLNT', 'non-standard', 'client software name'],
  ['AVBL', 'draft-peterson-streamlined-ftp-command-extensions', 'available space'],
  ['DSIZ', 'draft-peterson-streamlined-ftp-command-extensions', 'directory size'],
  ['RMDA', 'draft-peterson-streamlined-ftp-command-extensions', 'remove directory tree'],
  ['THMB', 'draft-peterson-streamlined-ftp-command-extensions', 'thumbnail of an image'],
  ['MFMT', 'draft-somers-ftp-mfxx', 'set modification time'],
  ['MFCT', 'draft-somers-ftp-mfxx', 'set creation time'],
  ['MFF', 'draft-somers-ftp-mfxx', 'set file facts'],
  ['HASH', 'draft-bryan-ftpext-hash', 'file hash'],
  ['XCRC', 'non-standard', 'file CRC'],
  ['XMD5', 'non-standard', 'file MD5'],
  ['XSHA1', 'non-standard', 'file SHA-1'],
  ['XSHA256', 'non-standard', 'file SHA-256'],
  ['XSHA512', 'non-standard', 'file SHA-512'],
  // Server-to-server (FXP) over TLS: which side acts as TLS client on the data connection.
  ['SSCN', 'non-standard', 'set secured client negotiation (FXP over TLS)'],
  ['CPSV', 'non-standard', 'PASV with TLS client role (FXP over TLS)'],
];

export const FTP_COMMANDS: ReadonlyMap<string, CommandInfo> = new Map(
  ROWS.map(([verb, spec, summary, data]) => [verb, { verb, spec, summary, dataResponse: data === true }]),
);

/** Commands are case-insensitive (RFC 959 §5.3). */
export function commandInfo(verb: string): CommandInfo | undefined {
  return FTP_COMMANDS.get(verb.toUpperCase());
}

export function isKnownCommand(verb: string): boolean {
  return commandInfo(verb) !== undefined;
}

export function responseUsesDataConnection(verb: string): boolean {
  return commandInfo(verb)?.dataResponse === true;
}

/** Reply codes worth naming when diagnosing transfers (RFC 959 §4.2, RFC 2228, RFC 2428). */
export const REPLY_CODES: ReadonlyMap<number, string> = new Map([
  [110, 'restart marker reply'],
  [120, 'service ready in a few minutes'],
  [125, 'data connection already open; transfer starting'],
  [150, 'file status okay; about to open data connection'],
  [200, 'command okay'],
  [202, 'command not implemented, superfluous here'],
  [211, 'system status or help reply'],
  [212, 'directory status'],
  [213, 'file status'],
  [214, 'help message'],
  [215, 'system type'],
  [220, 'service ready for new user'],
  [221, 'service closing control connection'],
  [225, 'data connection open; no transfer in progress'],
  [226, 'closing data connection; requested file action successful'],
  [227, 'entering passive mode'],
  [228, 'entering long passive mode'],
  [229, 'entering extended passive mode'],
  [230, 'user logged in'],
  [232, 'user logged in, authorized by security data exchange'],
  [234, 'security data exchange complete (AUTH accepted; TLS starts now)'],
  [235, 'security data exchange completed successfully'],
  [250, 'requested file action okay, completed'],
  [257, 'pathname created'],
  [331, 'user name okay, need password'],
  [332, 'need account for login'],
  [334, 'security mechanism accepted; security data to follow'],
  [335, 'security data acceptable; more required'],
  [336, 'user name okay, need password; challenge follows'],
  [350, 'requested file action pending further information'],
  [421, 'service not available, closing control connection'],
  [425, "can't open data connection"],
  [426, 'connection closed; transfer aborted'],
  [430, 'invalid user name or password'],
  [431, 'need some unavailable resource to process security'],
  [450, 'requested file action not taken (file unavailable)'],
  [451, 'requested action aborted: local error in processing'],
  [452, 'requested action not taken: insufficient storage space'],
  [500, 'syntax error, command unrecognized'],
  [501, 'syntax error in parameters or arguments'],
  [502, 'command not implemented'],
  [503, 'bad sequence of commands'],
  [504, 'command not implemented for that parameter'],
  [522, 'network protocol not supported'],
  [530, 'not logged in'],
  [532, 'need account for storing files'],
  [533, 'command protection level denied for policy reasons'],
  [534, 'request denied for policy reasons'],
  [535, 'failed security check'],
  [536, 'requested protection level not supported by mechanism'],
  [537, 'command protection level not supported by security mechanism'],
  [550, 'requested action not taken: file unavailable'],
  [551, 'requested action aborted: page type unknown'],
  [552, 'requested file action aborted: exceeded storage allocation'],
  [553, 'requested action not taken: file name not allowed'],
  [631, 'integrity-protected reply'],
  [632, 'confidentiality- and integrity-protected reply'],
  [633, 'confidentiality-protected reply'],
]);

export type ReplyClass =
  | 'positive-preliminary' | 'positive-completion' | 'positive-intermediate'
  | 'transient-negative' | 'permanent-negative' | 'protected' | 'invalid';

/** The first digit's meaning (RFC 959 §4.2; 6yz from RFC 2228). */
export function replyClass(code: number): ReplyClass {
  if (!Number.isInteger(code) || code < 100 || code > 699) return 'invalid';
  switch (Math.floor(code / 100)) {
    case 1: return 'positive-preliminary';
    case 2: return 'positive-completion';
    case 3: return 'positive-intermediate';
    case 4: return 'transient-negative';
    case 5: return 'permanent-negative';
    default: return 'protected';
  }
}

/** A named code's meaning, else its class, so every reply gets some description. */
export function replyDescription(code: number): string {
  return REPLY_CODES.get(code) ?? replyClass(code).replace(/-/g, ' ') + ' reply';
}
