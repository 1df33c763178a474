/** TLS facts: what the TLS analyzers found, as the store writes it and the rules read it. */
export interface TlsFacts {
  placeholder?: never;
}

export function emptyTlsFacts(): TlsFacts {
  return {};
}
