/**
 * Names for TLS code points (IANA tls-parameters registries), GREASE detection (RFC 8701) and
 * the weak-cipher / weak-version judgements the findings rules rely on.
 */
import { IANA_CIPHER_SUITES, LEGACY_CIPHER_SUITES, SSL2_CIPHER_SPECS } from './cipher-suites.js';

export { IANA_CIPHER_SUITES, LEGACY_CIPHER_SUITES, SSL2_CIPHER_SPECS };

/** RFC 8701: 0x?A?A with both bytes equal (0x0A0A … 0xFAFA). */
export function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && (value >> 8) === (value & 0xff);
}

/** The signalling values are not real suites (RFC 5746 §3.3, RFC 7507). */
export function isSignallingSuite(code: number): boolean {
  return code === 0x00ff || code === 0x5600;
}

export function cipherSuiteName(code: number): string | undefined {
  if (isGrease(code)) return 'GREASE';
  return IANA_CIPHER_SUITES.get(code) ?? LEGACY_CIPHER_SUITES.get(code);
}

/** Name, or the hex code when unregistered: always printable. */
export function cipherSuiteLabel(code: number): string {
  return cipherSuiteName(code) ?? `0x${code.toString(16).padStart(4, '0')}`;
}

export type WeakCipherReason = 'null' | 'export' | 'rc4' | 'des' | '3des' | 'anon';

/**
 * Why a suite is weak: no encryption (NULL), 40/56-bit export grade, RC4 (RFC 7465), single
 * DES (RFC 5469 deprecates it), 3DES (64-bit block, Sweet32), anonymous key exchange (no
 * server authentication). Unknown and signalling codes are not judged.
 */
export function weakCipherReasons(code: number): WeakCipherReason[] {
  const name = cipherSuiteName(code);
  if (!name || isSignallingSuite(code) || name === 'GREASE') return [];
  const reasons: WeakCipherReason[] = [];
  const withIdx = name.indexOf('_WITH_');
  const bulk = withIdx >= 0 ? name.slice(withIdx + 6) : name;
  const kx = withIdx >= 0 ? name.slice(0, withIdx) : '';
  if (/^NULL_/.test(bulk) || name === 'TLS_NULL_WITH_NULL_NULL') reasons.push('null');
  if (name.includes('EXPORT')) reasons.push('export');
  if (bulk.includes('RC4')) reasons.push('rc4');
  if (/(^|_)DES(40)?_CBC/.test(bulk)) reasons.push('des');
  if (bulk.includes('3DES') || bulk.includes('DES_192_EDE3')) reasons.push('3des');
  if (kx.includes('_anon')) reasons.push('anon');
  return reasons;
}

export function isWeakCipher(code: number): boolean {
  return weakCipherReasons(code).length > 0;
}

/** SSL 2.0 / 3.0 and TLS 1.0 / 1.1 are deprecated (RFC 6176, RFC 7568, RFC 8996). */
export function isWeakVersion(version: number): boolean {
  return version === 0x0002 || version === 0x0200 || (version >= 0x0300 && version <= 0x0302);
}

export function versionName(version: number): string {
  switch (version) {
    case 0x0002: case 0x0200: return 'SSL 2.0';
    case 0x0300: return 'SSL 3.0';
    case 0x0301: return 'TLS 1.0';
    case 0x0302: return 'TLS 1.1';
    case 0x0303: return 'TLS 1.2';
    case 0x0304: return 'TLS 1.3';
    case 0xfeff: return 'DTLS 1.0';
    case 0xfefd: return 'DTLS 1.2';
    case 0xfefc: return 'DTLS 1.3';
    case 0x0100: return 'DTLS 1.0 (OpenSSL pre 0.9.8f)';
  }
  // draft-ietf-tls-tls13-NN used 0x7f00 | NN; Facebook's Fizz used 0xfb00 | NN.
  if ((version & 0xff00) === 0x7f00) return `TLS 1.3 (draft ${version & 0xff})`;
  if ((version & 0xff00) === 0xfb00) return `TLS 1.3 (Facebook draft ${version & 0xff})`;
  if ((version & 0xff00) === 0x7e00) return `TLS 1.3 (Google experiment ${version & 0xff})`;
  if (isGrease(version)) return 'GREASE';
  return `0x${version.toString(16).padStart(4, '0')}`;
}

/** The TLS 1.3 draft number behind a pre-RFC version code, if any. */
export function tls13Draft(version: number): number | undefined {
  if ((version & 0xff00) === 0x7f00 || (version & 0xff00) === 0xfb00) return version & 0xff;
  return undefined;
}

const CONTENT_TYPES: Record<number, string> = {
  20: 'change_cipher_spec', 21: 'alert', 22: 'handshake', 23: 'application_data', 24: 'heartbeat',
};
export function contentTypeName(type: number): string {
  return CONTENT_TYPES[type] ?? `unknown(${type})`;
}

const HANDSHAKE_TYPES: Record<number, string> = {
  0: 'hello_request', 1: 'client_hello', 2: 'server_hello', 3: 'hello_verify_request',
  4: 'new_session_ticket', 5: 'end_of_early_data', 6: 'hello_retry_request', 8: 'encrypted_extensions',
  11: 'certificate', 12: 'server_key_exchange', 13: 'certificate_request', 14: 'server_hello_done',
  15: 'certificate_verify', 16: 'client_key_exchange', 20: 'finished', 21: 'certificate_url',
  22: 'certificate_status', 23: 'supplemental_data', 24: 'key_update', 25: 'compressed_certificate',
  67: 'next_protocol', 254: 'message_hash',
};
export function handshakeTypeName(type: number): string {
  return HANDSHAKE_TYPES[type] ?? `unknown(${type})`;
}

const ALERT_DESCRIPTIONS: Record<number, string> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 21: 'decryption_failed',
  22: 'record_overflow', 30: 'decompression_failure', 40: 'handshake_failure', 41: 'no_certificate',
  42: 'bad_certificate', 43: 'unsupported_certificate', 44: 'certificate_revoked',
  45: 'certificate_expired', 46: 'certificate_unknown', 47: 'illegal_parameter', 48: 'unknown_ca',
  49: 'access_denied', 50: 'decode_error', 51: 'decrypt_error', 60: 'export_restriction',
  70: 'protocol_version', 71: 'insufficient_security', 80: 'internal_error',
  86: 'inappropriate_fallback', 90: 'user_canceled', 100: 'no_renegotiation',
  109: 'missing_extension', 110: 'unsupported_extension', 111: 'certificate_unobtainable',
  112: 'unrecognized_name', 113: 'bad_certificate_status_response',
  114: 'bad_certificate_hash_value', 115: 'unknown_psk_identity', 116: 'certificate_required',
  120: 'no_application_protocol', 121: 'ech_required',
};
export function alertDescriptionName(description: number): string {
  return ALERT_DESCRIPTIONS[description] ?? `unknown(${description})`;
}
export function alertLevelName(level: number): string {
  return level === 1 ? 'warning' : level === 2 ? 'fatal' : `unknown(${level})`;
}

const EXTENSIONS: Record<number, string> = {
  0: 'server_name', 1: 'max_fragment_length', 2: 'client_certificate_url', 3: 'trusted_ca_keys',
  4: 'truncated_hmac', 5: 'status_request', 6: 'user_mapping', 7: 'client_authz', 8: 'server_authz',
  9: 'cert_type', 10: 'supported_groups', 11: 'ec_point_formats', 12: 'srp',
  13: 'signature_algorithms', 14: 'use_srtp', 15: 'heartbeat',
  16: 'application_layer_protocol_negotiation', 17: 'status_request_v2',
  18: 'signed_certificate_timestamp', 19: 'client_certificate_type', 20: 'server_certificate_type',
  21: 'padding', 22: 'encrypt_then_mac', 23: 'extended_master_secret', 24: 'token_binding',
  25: 'cached_info', 26: 'tls_lts', 27: 'compress_certificate', 28: 'record_size_limit',
  29: 'pwd_protect', 30: 'pwd_clear', 31: 'password_salt', 32: 'ticket_pinning',
  33: 'tls_cert_with_extern_psk', 34: 'delegated_credential', 35: 'session_ticket', 36: 'TLMSP',
  37: 'TLMSP_proxying', 38: 'TLMSP_delegate', 39: 'supported_ekt_ciphers', 41: 'pre_shared_key',
  42: 'early_data', 43: 'supported_versions', 44: 'cookie', 45: 'psk_key_exchange_modes',
  47: 'certificate_authorities', 48: 'oid_filters', 49: 'post_handshake_auth',
  50: 'signature_algorithms_cert', 51: 'key_share', 52: 'transparency_info',
  53: 'connection_id_deprecated', 54: 'connection_id', 55: 'external_id_hash',
  56: 'external_session_id', 57: 'quic_transport_parameters', 58: 'ticket_request',
  59: 'dnssec_chain',
  // Not IANA-registered but common on the wire.
  13172: 'next_protocol_negotiation', 17513: 'application_settings_old', 17613: 'application_settings',
  30031: 'channel_id_old', 30032: 'channel_id', 0xfd00: 'ech_outer_extensions',
  0xfe0d: 'encrypted_client_hello', 0xffce: 'encrypted_server_name', 0xff01: 'renegotiation_info',
};
export function extensionName(type: number): string {
  if (isGrease(type)) return 'GREASE';
  return EXTENSIONS[type] ?? `unknown(${type})`;
}

const GROUPS: Record<number, string> = {
  1: 'sect163k1', 2: 'sect163r1', 3: 'sect163r2', 4: 'sect193r1', 5: 'sect193r2', 6: 'sect233k1',
  7: 'sect233r1', 8: 'sect239k1', 9: 'sect283k1', 10: 'sect283r1', 11: 'sect409k1', 12: 'sect409r1',
  13: 'sect571k1', 14: 'sect571r1', 15: 'secp160k1', 16: 'secp160r1', 17: 'secp160r2',
  18: 'secp192k1', 19: 'secp192r1', 20: 'secp224k1', 21: 'secp224r1', 22: 'secp256k1',
  23: 'secp256r1', 24: 'secp384r1', 25: 'secp521r1', 26: 'brainpoolP256r1', 27: 'brainpoolP384r1',
  28: 'brainpoolP512r1', 29: 'x25519', 30: 'x448', 31: 'brainpoolP256r1tls13',
  32: 'brainpoolP384r1tls13', 33: 'brainpoolP512r1tls13', 34: 'GC256A', 35: 'GC256B', 36: 'GC256C',
  37: 'GC256D', 38: 'GC512A', 39: 'GC512B', 40: 'GC512C', 41: 'curveSM2',
  256: 'ffdhe2048', 257: 'ffdhe3072', 258: 'ffdhe4096', 259: 'ffdhe6144', 260: 'ffdhe8192',
  512: 'MLKEM512', 513: 'MLKEM768', 514: 'MLKEM1024',
  0x11eb: 'SecP256r1MLKEM768', 0x11ec: 'X25519MLKEM768', 0x11ed: 'SecP384r1MLKEM1024',
  0x6399: 'X25519Kyber768Draft00', 0x639a: 'SecP256r1Kyber768Draft00',
  0xff01: 'arbitrary_explicit_prime_curves', 0xff02: 'arbitrary_explicit_char2_curves',
};
export function groupName(group: number): string {
  if (isGrease(group)) return 'GREASE';
  return GROUPS[group] ?? `unknown(${group})`;
}

const SIGNATURE_SCHEMES: Record<number, string> = {
  0x0201: 'rsa_pkcs1_sha1', 0x0202: 'dsa_sha1', 0x0203: 'ecdsa_sha1',
  0x0301: 'rsa_pkcs1_sha224', 0x0302: 'dsa_sha224', 0x0303: 'ecdsa_sha224',
  0x0401: 'rsa_pkcs1_sha256', 0x0402: 'dsa_sha256', 0x0403: 'ecdsa_secp256r1_sha256',
  0x0501: 'rsa_pkcs1_sha384', 0x0502: 'dsa_sha384', 0x0503: 'ecdsa_secp384r1_sha384',
  0x0601: 'rsa_pkcs1_sha512', 0x0602: 'dsa_sha512', 0x0603: 'ecdsa_secp521r1_sha512',
  0x0804: 'rsa_pss_rsae_sha256', 0x0805: 'rsa_pss_rsae_sha384', 0x0806: 'rsa_pss_rsae_sha512',
  0x0807: 'ed25519', 0x0808: 'ed448', 0x0809: 'rsa_pss_pss_sha256', 0x080a: 'rsa_pss_pss_sha384',
  0x080b: 'rsa_pss_pss_sha512', 0x081a: 'ecdsa_brainpoolP256r1tls13_sha256',
  0x081b: 'ecdsa_brainpoolP384r1tls13_sha384', 0x081c: 'ecdsa_brainpoolP512r1tls13_sha512',
  0x0904: 'mldsa44', 0x0905: 'mldsa65', 0x0906: 'mldsa87',
};
export function signatureSchemeName(scheme: number): string {
  if (isGrease(scheme)) return 'GREASE';
  return SIGNATURE_SCHEMES[scheme] ?? `0x${scheme.toString(16).padStart(4, '0')}`;
}
