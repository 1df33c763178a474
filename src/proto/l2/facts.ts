/** L2 facts: what the L2 analyzers found, as the store writes it and the rules read it. */
export interface L2Facts {
  placeholder?: never;
}

export function emptyL2Facts(): L2Facts {
  return {};
}
