/**
 * The extension point between FTPS rules and TLS facts: handshake views are read from
 * facts.tls.handshakes by shape, and the reuse verdict follows RFC 8446 (TLS 1.3 resumes only by
 * pre_shared_key), RFC 5246 (session ID) and RFC 5077 (tickets).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AnalysisContext, DEFAULT_OPTIONS } from '../../../src/analysis/context.js';
import type { FactSet } from '../../../src/analysis/context.js';
import type { TlsFacts } from '../../../src/proto/tls/facts.js';
import type { FtpSessionFact } from '../../../src/proto/ftp/facts.js';
import { ftpsHandshakes, reuseVerdict, type FtpsHandshakeView } from '../../../src/findings/rules/ftps-tls-evidence.js';
import { FTPS_SESSION_REUSE_MISSING } from '../../../src/findings/rules/ftps-session-reuse-missing.js';

const view = (v: Partial<FtpsHandshakeView>): FtpsHandshakeView => ({
  flow: 1, clientHelloFrame: 40, clientSessionId: '', offeredTicket: false, offeredPsk: false,
  serverHelloFrame: 42, serverSessionId: null, version: 0x0303, resumed: null, ...v,
});

test('TLS 1.3: only a pre_shared_key resumes; the random legacy_session_id does not count', () => {
  const control = view({ flow: 0, clientHelloFrame: 10, serverHelloFrame: 11, version: 0x0304, serverSessionId: 'aa'.repeat(32) });
  assert.match(reuseVerdict(control, view({ version: 0x0304, clientSessionId: 'bb'.repeat(32) }))!.reason, /no pre_shared_key/);
  assert.equal(reuseVerdict(control, view({ version: 0x0304, clientSessionId: 'bb'.repeat(32), offeredPsk: true, resumed: true })), null);
  assert.match(reuseVerdict(control, view({ version: 0x0304, offeredPsk: true, resumed: false }))!.reason, /did not accept/);
});

test('TLS 1.2: nothing offered, another session ID offered, or a full handshake', () => {
  const control = view({ flow: 0, serverSessionId: 'c0'.repeat(32) });
  assert.match(reuseVerdict(control, view({}))!.reason, /no session ID, ticket or PSK/);
  assert.match(reuseVerdict(control, view({ clientSessionId: 'd1'.repeat(32) }))!.reason, /not the control connection's/);
  assert.equal(reuseVerdict(control, view({ clientSessionId: 'c0'.repeat(32), resumed: true })), null);
  assert.match(reuseVerdict(control, view({ clientSessionId: 'c0'.repeat(32), resumed: false }))!.reason, /full handshake/);
  assert.equal(reuseVerdict(control, view({ offeredTicket: true, resumed: null })), null);
});

function factsWith(handshakes: unknown[], session: FtpSessionFact): FactSet {
  const facts = new AnalysisContext(DEFAULT_OPTIONS, 'x.pcap', 'x.pcap').facts;
  facts.tls = { handshakes } as unknown as TlsFacts;
  facts.ftp.sessions = [session];
  return facts;
}

function ftpsSession(): FtpSessionFact {
  const conn = {
    flow: 1, matchedBy: 'encrypted-session' as const, src: '192.0.2.10', srcPort: 40001, dst: '198.51.100.21', dstPort: 40000,
    state: 'completed' as const, firstFrame: 39, lastFrame: 45, firstTs: 2e15, lastTs: 2e15 + 1000, synFrame: 39,
    synRetransmissions: 0, synAckFrame: 40, rstFrame: null, rstFrom: null, icmp: [], bytes: [300, 100] as [number, number],
    bytesFromClient: 300, bytesFromServer: 100, tls: true, firstPayloadFrame: 40,
  };
  return {
    flow: 0, client: '192.0.2.10', clientPort: 40000, server: '198.51.100.21', serverPort: 21, detectedBy: 'port',
    firstFrame: 1, lastFrame: 50, firstTs: 1e15, lastTs: 3e15, greeting: null, user: null, userFrame: null, userVia: null,
    password: null, passFrame: null, passVia: null, login: 'none', loginReply: null, anonymous: false,
    tls: { mode: 'explicit', auth: 'SSL', authFrame: 5, authReply: null, tlsFrom: { offsetClient: 10, offsetServer: 40, frame: 6 },
      pbsz: null, prot: null, ccc: null, encryptedBytes: [1000, 2000], decryptedLines: 0, partial: true },
    commandCount: 1, commands: [], commandsDropped: 0, transfers: [], channels: [], channelsDropped: 0,
    encryptedDataConnections: [conn], unsolicited: [], malformedLines: 0, gapBytes: 0,
  };
}

test('handshakes reach FTPS_SESSION_REUSE_MISSING through facts.tls, by flow index', () => {
  const session = ftpsSession();
  const control = { flow: 0, clientHelloFrame: 7, clientSessionId: 'aa'.repeat(32), offeredTicket: false, offeredPsk: false,
    serverHelloFrame: 8, serverSessionId: 'aa'.repeat(32), version: 0x0304, resumed: false, extra: 'ignored' };
  const data = { flow: 1, clientHelloFrame: 40, clientSessionId: 'bb'.repeat(32), offeredTicket: false, offeredPsk: false,
    serverHelloFrame: 42, serverSessionId: 'bb'.repeat(32), version: 0x0304, resumed: false };
  const facts = factsWith([control, data, { flow: 'not a view' }], session);
  assert.deepEqual([...ftpsHandshakes(facts).keys()], [0, 1]);
  const drafts = FTPS_SESSION_REUSE_MISSING.evaluate(facts, { passiveRange: null, trusted: [] });
  assert.equal(drafts.length, 1);
  assert.deepEqual(drafts[0].frames, [40, 42]);
  assert.equal(drafts[0].subject.flow, 1);
  assert.match(drafts[0].explanation!, /no pre_shared_key/);
  // Without TLS facts there is no verdict to draw from the handshake.
  assert.equal(FTPS_SESSION_REUSE_MISSING.evaluate(factsWith([], ftpsSession()), { passiveRange: null, trusted: [] }).length, 0);
});
