/**
 * Test-only helper (no tests of its own): byte builders for TLS structures, written straight
 * from the RFC 8446 / RFC 5246 presentation language, so tests can state inputs field by field.
 */

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

export function u8(v: number): Buffer { return Buffer.from([v]); }
export function u16(v: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; }
export function u24(v: number): Buffer { const b = Buffer.alloc(3); b.writeUIntBE(v, 0, 3); return b; }
export function u32(v: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32BE(v); return b; }
export function vec8(...parts: Buffer[]): Buffer { const d = Buffer.concat(parts); return Buffer.concat([u8(d.length), d]); }
export function vec16(...parts: Buffer[]): Buffer { const d = Buffer.concat(parts); return Buffer.concat([u16(d.length), d]); }
export function vec24(...parts: Buffer[]): Buffer { const d = Buffer.concat(parts); return Buffer.concat([u24(d.length), d]); }
export function u16s(list: number[]): Buffer { return Buffer.concat(list.map(u16)); }

export function record(contentType: number, version: number, fragment: Buffer): Buffer {
  return Buffer.concat([u8(contentType), u16(version), u16(fragment.length), fragment]);
}

export function handshake(msgType: number, body: Buffer): Buffer {
  return Buffer.concat([u8(msgType), u24(body.length), body]);
}

export function ext(type: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([u16(type), vec16(data)]);
}

export const sniExt = (name: string): Buffer => ext(0, vec16(u8(0), vec16(Buffer.from(name, 'latin1'))));
export const alpnExt = (...names: string[]): Buffer => ext(16, vec16(...names.map((n) => vec8(Buffer.from(n, 'latin1')))));
export const groupsExt = (groups: number[]): Buffer => ext(10, vec16(u16s(groups)));
export const pointFormatsExt = (formats: number[]): Buffer => ext(11, vec8(Buffer.from(formats)));
export const sigAlgsExt = (algs: number[]): Buffer => ext(13, vec16(u16s(algs)));
export const versionsExt = (versions: number[]): Buffer => ext(43, vec8(u16s(versions)));

export interface HelloSpec {
  version?: number;
  random?: Buffer;
  sessionId?: Buffer;
  ciphers: number[];
  compression?: number[];
  /** Encoded extensions (ext()), or undefined for no extensions block at all. */
  extensions?: Buffer[];
}

/** ClientHello body (RFC 8446 §4.1.2). */
export function clientHelloBody(h: HelloSpec): Buffer {
  return Buffer.concat([
    u16(h.version ?? 0x0303), h.random ?? Buffer.alloc(32, 0x11), vec8(h.sessionId ?? Buffer.alloc(0)),
    vec16(u16s(h.ciphers)), vec8(Buffer.from(h.compression ?? [0])),
    h.extensions === undefined ? Buffer.alloc(0) : vec16(...h.extensions),
  ]);
}

/** ServerHello body (RFC 8446 §4.1.3). */
export function serverHelloBody(h: { version?: number; random?: Buffer; sessionId?: Buffer; cipher: number; extensions?: Buffer[] }): Buffer {
  return Buffer.concat([
    u16(h.version ?? 0x0303), h.random ?? Buffer.alloc(32, 0x22), vec8(h.sessionId ?? Buffer.alloc(0)),
    u16(h.cipher), u8(0), h.extensions === undefined ? Buffer.alloc(0) : vec16(...h.extensions),
  ]);
}

/** RFC 8448 §3 "Simple 1-RTT Handshake" bytes, as published. */
export const RFC8448 = {
  clientHello: hex(`010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302010000910000000b
    0009000006736572766572ff01000100000a00140012001d0017001800190100010101020103010400230000003300260024001d002099381de5
    60e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b0003020304000d0020001e0403050306030203080408050806040105
    01060102010402050206020202002d00020101001c00024001`),
  serverHello: hex(`020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e00330024001d0020c9828876
    112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304`),
  serverHelloRecord: hex(`160303005a020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e003300
    24001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304`),
  /** EncryptedExtensions … Finished under the server handshake traffic key, sequence 0. */
  serverFlightRecord: hex(`17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7ca07612ef9f9
    45cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13bd9aefb0e57f271585b8ea9bb355c7c79
    020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b
    227812cbb360987255cc744110c453baa4fcd610928d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5
    edd8044b4c6de3fcf2a89441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f44
    15cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a36ac1b639c637ce343117b659
    622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e1b7a6c7178af36879018e3f252107f243d243dc7339d56
    84c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052cf93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c7411
    6dbd2972fda1fa80f85df881edbe5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913f
    a388cb5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038ebba42f3b38edc03
    99f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592c12335ee340bbc4fddd502784016e4b3be7ef04dda49f4b440a30cb5d2af93
    9828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e750edc53370d2b`),
  clientFinishedRecord: hex(`170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1caeacab68
    67d726c40546`),
  /** NewSessionTicket under the server application key, sequence 0. */
  ticketRecord: hex(`17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d41d6af8f6b580dcf3d11d63c758db289a015940252f
    55713e061dc13e078891a38efbcf5753ad8ef170ad3c7353d16d9da773b9ca7f2b9fa1b6c0d4a3d03f75e09c30ba1e62972ac46f75f7b981be6343
    9b2999ce13064615139891d5e4c5b406f16e3fc181a77ca475840025db2f0a77f81b5ab05b94c01346755f69232c86519d86cbeeac87aac347d143
    f9605d64f650db4d023e70e952ca49fe5137121c74bc2697687e248746d6df353005f3bce18696129c8153556b3b6c6779b37bf15985684f`),
  clientAppRecord: hex(`1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a62
    92a2977014bd1e3deae63aeebb21694915e4`),
  serverAppRecord: hex(`17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6dffc602dcb501a59a8fcc49c4bf2
    e5f0a21c0047c2abf332540dd032e167c2955d`),
  serverAlertRecord: hex('1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9'),
  clientAlertRecord: hex('1703030013c9872760655666b74d7ff1153efd6db6d0b0e3'),
  clientHandshakeTrafficSecret: hex('b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21'),
  serverHandshakeTrafficSecret: hex('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38'),
  clientApplicationTrafficSecret: hex('9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5'),
  serverApplicationTrafficSecret: hex('a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643'),
  serverFinished: hex('140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718'),
  clientFinished: hex('14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61'),
};
