const LINK_TYPES: Record<number, string> = {
  0: 'NULL', 1: 'Ethernet', 101: 'RAW', 105: '802.11', 108: 'LOOP', 113: 'Linux SLL', 127: '802.11 radiotap',
  228: 'IPv4', 229: 'IPv6', 239: 'NFLOG', 276: 'Linux SLL2',
};

export function linkTypeName(lt: number): string {
  return LINK_TYPES[lt] ? `${LINK_TYPES[lt]} (${lt})` : `link type ${lt}`;
}
