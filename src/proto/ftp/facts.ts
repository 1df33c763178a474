/** FTP facts: what the FTP analyzers found, as the store writes it and the rules read it. */
export interface FtpFacts {
  placeholder?: never;
}

export function emptyFtpFacts(): FtpFacts {
  return {};
}
