import type { HandshakeFailure, TlsJudgedHandshake } from '../../proto/tls/facts.js';
import { type Rule, tallied } from '../types.js';
import { connectionName, endpoint, type FtpsLink, groupTally, handshakeDetails, helloFrames, subjectOf } from './tls-evidence.js';

/** What an alert sent during the handshake usually means, and what to do about it (RFC 8446 §6.2). */
const ALERT_CAUSES: Record<string, [string, string]> = {
  handshake_failure: ['the two sides share no acceptable protocol version, cipher suite, curve or signature algorithm, or the server wanted a client certificate it did not get', 'compare what the client offers (ClientHello) with what the server accepts and enable a common TLS 1.2/1.3 suite on both'],
  protocol_version: ['the peer refuses the protocol version offered (a client that offers only old versions, or a server that speaks only old ones)', 'enable TLS 1.2 or 1.3 on both ends'],
  insufficient_security: ['the server requires stronger cipher suites than the client offered', 'update the client\'s TLS library or its cipher configuration'],
  unknown_ca: ['the client does not trust the authority that issued the server certificate (self-signed, private CA, or a missing intermediate)', 'send the full intermediate chain from the server, or install the issuing CA on the client'],
  bad_certificate: ['a certificate was rejected as invalid (bad signature, wrong key usage, corrupt)', 'check the certificate and its chain with openssl s_client -showcerts'],
  unsupported_certificate: ['a certificate of an unsupported type or key was rejected', 'use an RSA or ECDSA certificate with a usual key size'],
  certificate_expired: ['a certificate was refused as expired (or not yet valid)', 'renew the certificate; check clocks'],
  certificate_revoked: ['a certificate was refused as revoked', 'replace the revoked certificate'],
  certificate_unknown: ['a certificate was refused for a reason the peer did not name (often an untrusted or mismatched server certificate)', 'check the server certificate\'s chain and names against what the client expects'],
  certificate_required: ['the server requires a client certificate and the client sent none', 'configure the client with its certificate and key'],
  access_denied: ['the peer was identified but refused access', 'check the server\'s client-certificate or PSK authorisation'],
  unrecognized_name: ['the server does not host the name the client asked for (SNI)', 'configure the server for that name, or have the client use a name the server hosts'],
  no_application_protocol: ['no application protocol (ALPN) in common', 'align the ALPN protocols (h2, http/1.1, …) of client and server'],
  inappropriate_fallback: ['the client retried with a lower version after a failure and the server detected the downgrade', 'fix the first failure; do not rely on version fallback'],
  illegal_parameter: ['a handshake field had a value the peer does not accept (often a middlebox altering the handshake)', 'look for a TLS-inspecting proxy or firewall on the path; update both TLS libraries'],
  decode_error: ['a handshake message could not be parsed (often a middlebox altering the handshake)', 'look for a TLS-inspecting proxy or firewall on the path'],
  decrypt_error: ['a signature or Finished check failed: the two sides did not see the same handshake (interception) or a key is wrong', 'look for a TLS-inspecting proxy on the path; check the server\'s key matches its certificate'],
  bad_record_mac: ['a record failed its integrity check (corruption or interception)', 'look for a middlebox altering traffic'],
  internal_error: ['the peer hit an internal error unrelated to the protocol', 'read the peer\'s logs'],
  user_canceled: ['the peer cancelled the handshake', 'read the peer\'s logs'],
  close_notify: ['the peer closed the connection in the middle of the handshake', 'read the peer\'s logs for why it gave up'],
};

function cause(f: HandshakeFailure, h: TlsJudgedHandshake, link: FtpsLink | undefined): [string, string] {
  if (f.kind === 'alert' && f.alert && f.alert.visibility !== 'encrypted') {
    return ALERT_CAUSES[f.alert.name] ?? ['the alert names the reason', 'see the alert description'];
  }
  if (f.kind === 'alert') {
    const who = f.by === 'client'
      ? 'a client alert after the server\'s (encrypted) certificate is usually the client refusing that certificate'
      : 'a server alert at this point is usually the server refusing something in the client\'s messages (a client certificate, the key exchange)';
    return [`the alert is encrypted, so its reason cannot be read (a key log would show it); ${who}`, 'capture with SSLKEYLOGFILE set on the client, or read the peers\' logs'];
  }
  if (f.kind === 'not-tls') {
    return ['the peer is not speaking TLS on this port (for example plain HTTP on an HTTPS port, or a proxy answering in clear)', 'point the client at the TLS port, or enable TLS on the service'];
  }
  if (link?.role === 'data') {
    return ['an FTPS server that requires the data connection to resume the control connection\'s TLS session closes data connections that do not; otherwise the client or a firewall gave up', 'check the control connection for a 425/450/522 reply and enable TLS session reuse in the client'];
  }
  if (h.serverHelloFrame === null) {
    return ['the server (or a firewall or IPS in front of it) gave up on the ClientHello without a word: typically no acceptable version or suite, an SNI it refuses, or a filter that blocks TLS to this destination', 'test with openssl s_client -connect and the same SNI and versions, from the same network and from elsewhere'];
  }
  const last = h.messages[h.messages.length - 1];
  if (last?.from === 'client') {
    return ['the server gave up after the client\'s key exchange and Finished without an alert: it rejected them (a client certificate it refuses, keys that do not match, a middlebox altering the handshake) or timed out', 'read the server\'s log for the handshake error'];
  }
  return ['the client gave up after the server\'s hello and certificate without an alert: typically it does not trust the certificate or its name, or it timed out', 'check the client\'s error message and the server certificate (chain, names, validity)'];
}

function after(f: HandshakeFailure): string {
  return f.after.replace(/^after /, 'right after ');
}

/**
 * The handshake did not complete: a fatal alert (or an alert and then the end), the connection
 * dropped by FIN/RST before both Finished messages, or a peer that does not speak TLS. One
 * finding per client, server endpoint and way of failing, naming every connection.
 */
export const TLS_HANDSHAKE_FAILED: Rule = tallied({
  code: 'TLS_HANDSHAKE_FAILED',
  severity: 'high',
  title: 'TLS handshake failed',
  explanation: 'The TLS handshake did not complete: one side sent a fatal alert or closed the connection before both sides had finished, so no application data could be exchanged.',
  mitigation: 'Act on the reason in the explanation: align versions and cipher suites, fix the certificate chain or names, or remove the middlebox that interferes.',
  tally: () => groupTally(
    ({ h, link }) => ((h.state !== 'failed' && h.state !== 'dropped') || h.failure === null || h.clientHelloFrame === null ? null : {
      key: `${h.client}|${h.server}|${h.serverPort}|${h.failure.kind}|${h.failure.by}|${h.failure.alert?.name ?? ''}|${h.serverHelloFrame === null}`,
      entry: { h, link }, frames: [...helloFrames(h), h.failure.frame], ts: h.clientHelloTs ?? h.firstTs,
    }),
    (g) => {
      const { h: first, link } = g.first;
      const f = first.failure!;
      const [why, fix] = cause(f, first, link);
      const what = f.kind === 'alert'
        ? (f.alert?.visibility === 'encrypted' ? `the ${f.by} sent an encrypted alert` : `the ${f.by} sent a ${f.alert?.level === 2 ? 'fatal' : 'warning'} ${f.alert?.name} alert`)
        : f.kind === 'reset' ? `the ${f.by} reset the connection`
          : f.kind === 'closed' ? `${f.by ? `the ${f.by}` : 'both sides'} closed the connection`
            : `the ${f.by} sent bytes that are not TLS`;
      return {
        frames: g.frames,
        firstTs: first.clientHelloTs ?? first.firstTs,
        subject: subjectOf(first, link),
        details: { failure: { ...f, ts: undefined }, server: first.server, serverPort: first.serverPort, handshakes: g.items.map(({ h }) => ({ ...handshakeDetails(h), state: h.state, failureFrame: h.failure!.frame })), count: g.count },
        explanation: `In ${connectionName(first, link)}, ${what} in frame ${f.frame}, ${after(f)}, and the handshake never completed`
          + `${g.count > 1 ? ` (the same happened in ${g.count} connections from ${first.client} to ${endpoint(first.server, first.serverPort)}: ${g.flowList()})` : ''}. Likely cause: ${why}.`,
        mitigation: `${fix[0].toUpperCase()}${fix.slice(1)}.`,
      };
    },
  ),
});
