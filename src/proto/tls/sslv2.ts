/**
 * The two SSL 2.0 messages that decide an SSL 2.0 connection (Netscape's "The SSL Protocol"
 * draft, 1995, §2.6): SERVER-HELLO carries the server's certificate and the cipher specs it
 * accepts, CLIENT-MASTER-KEY the one the client picked. A server that answers an
 * SSL 2.0-compatible CLIENT-HELLO in kind has negotiated SSL 2.0.
 */
import { ByteReader, type Malformed, malformed } from './reader.js';

export const SSL2_MSG = { CLIENT_HELLO: 1, CLIENT_MASTER_KEY: 2, SERVER_HELLO: 4 } as const;

export interface Sslv2ServerHello {
  kind: 'sslv2_server_hello';
  sessionIdHit: boolean;
  /** 1 = X.509 certificate. */
  certificateType: number;
  version: number;
  certificate: Buffer;
  cipherSpecs: number[];
  connectionId: Buffer;
}

/** `message` starts at msg_type (after the record header). */
export function parseSslv2ServerHello(message: Buffer): Sslv2ServerHello | Malformed {
  const r = new ByteReader(message);
  const type = r.u8('msg_type');
  const sessionIdHit = r.u8('session_id_hit');
  const certificateType = r.u8('certificate_type');
  const version = r.u16('server_version');
  const certLength = r.u16('certificate_length');
  const specsLength = r.u16('cipher_specs_length');
  const idLength = r.u16('connection_id_length');
  const certificate = r.bytes(certLength, 'certificate');
  const specs = r.bytes(specsLength, 'cipher_specs');
  const connectionId = r.bytes(idLength, 'connection_id');
  if (r.failure) return r.failure;
  if (type !== SSL2_MSG.SERVER_HELLO) return malformed(0, `SSLv2 message type ${type} is not SERVER-HELLO`);
  if (specsLength % 3 !== 0) return malformed(9, `cipher_specs_length ${specsLength} is not a multiple of 3`);
  const cipherSpecs: number[] = [];
  for (let i = 0; i < specs.length; i += 3) cipherSpecs.push(specs.readUIntBE(i, 3));
  return { kind: 'sslv2_server_hello', sessionIdHit: sessionIdHit !== 0, certificateType, version, certificate, cipherSpecs, connectionId };
}

/** CLIENT-MASTER-KEY: only the chosen cipher kind matters here. */
export function sslv2ChosenCipher(message: Buffer): number | undefined {
  if (message.length < 4 || message[0] !== SSL2_MSG.CLIENT_MASTER_KEY) return undefined;
  return message.readUIntBE(1, 3);
}
