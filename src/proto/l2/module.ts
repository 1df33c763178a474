import type { ProtocolModule } from '../../protocols.js';
import { l2Analyzer } from './analyzer.js';
import { L2_MIGRATION, writeL2Facts } from './store.js';
import { nlbDocument } from './document.js';
import { NLB_CLUSTER_DETECTED } from '../../findings/rules/nlb-cluster-detected.js';
import { NLB_UNICAST_FLOODING } from '../../findings/rules/nlb-unicast-flooding.js';
import { NLB_MULTICAST_FLOODING } from '../../findings/rules/nlb-multicast-flooding.js';
import { NLB_ARP_MULTICAST_MAC } from '../../findings/rules/nlb-arp-multicast-mac.js';
import { NLB_HEARTBEAT_LOSS } from '../../findings/rules/nlb-heartbeat-loss.js';
import { L2_UNKNOWN_UNICAST_FLOODING } from '../../findings/rules/l2-unknown-unicast-flooding.js';
import { ARP_DUPLICATE_IP } from '../../findings/rules/arp-duplicate-ip.js';

/** Layer 2: NLB heartbeats and clusters, ARP, IGMP and flooding; its findings, tables and the `nlb` JSON section. */
export const L2_MODULE: ProtocolModule = {
  name: 'l2',
  analyzers: [l2Analyzer],
  rules: [
    NLB_CLUSTER_DETECTED, NLB_UNICAST_FLOODING, NLB_MULTICAST_FLOODING, NLB_ARP_MULTICAST_MAC, NLB_HEARTBEAT_LOSS,
    L2_UNKNOWN_UNICAST_FLOODING, ARP_DUPLICATE_IP,
  ],
  migration: L2_MIGRATION,
  writeFacts: writeL2Facts,
  document: { key: 'nlb', section: (db, captureIds) => nlbDocument(db, captureIds) },
};
