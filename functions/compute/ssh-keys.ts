import { md5 } from '../shared/md5.ts';

// OpenSSH public keys ("<type> <base64 blob> [comment]"), generated Ed25519 pairs, and the X.509
// certificates v2.1 imports as `x509` key pairs. Keys are made and hashed with WebCrypto so the same
// code runs in Workers and Node.

/** Key types an OpenSSH client can use for login; the blob must start with the same name. */
const SSH_KEY_TYPES = [
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-dss',
] as const;

export class InvalidPublicKey extends Error {
  override readonly name = 'InvalidPublicKey';
}

function sshString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    throw new InvalidPublicKey('the key data is not base64');
  }
}

const ascii = (text: string) => new TextEncoder().encode(text);

/** Nova's fingerprint: MD5 of the key blob as colon-separated hex pairs (what `ssh-keygen -E md5 -l` prints). */
export function fingerprint(blob: Uint8Array): string {
  return colonHex(md5(blob));
}

function colonHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(':');
}

/** Checks an OpenSSH public key line and returns it normalised (type and blob, comment kept) with its fingerprint. */
export function parsePublicKey(line: string): { publicKey: string; fingerprint: string } {
  const [type, data, ...comment] = line.trim().split(/\s+/);
  if (!type || !data) throw new InvalidPublicKey('expected "<type> <base64 key> [comment]"');
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) {
    throw new InvalidPublicKey(`unsupported key type '${type}'`);
  }
  const blob = fromBase64(data);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const nameLength = blob.length >= 4 ? view.getUint32(0) : -1;
  if (nameLength < 0 || 4 + nameLength > blob.length) throw new InvalidPublicKey('the key data is truncated');
  const embedded = new TextDecoder().decode(blob.subarray(4, 4 + nameLength));
  if (embedded !== type) throw new InvalidPublicKey(`the key data is a '${embedded}' key, not '${type}'`);
  if (4 + nameLength === blob.length) throw new InvalidPublicKey('the key data holds no key');
  return { publicKey: [type, data, ...comment].join(' '), fingerprint: fingerprint(blob) };
}

// An Ed25519 PKCS#8 document is a fixed 16-byte header followed by the 32-byte seed.
const PKCS8_ED25519_SEED_OFFSET = 16;

function pemLines(label: string, body: Uint8Array): string {
  const lines = toBase64(body).match(/.{1,70}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** A new Ed25519 pair: the OpenSSH public key line and the private key in OpenSSH's own (unencrypted) format. */
export async function generateKeyPair(comment: string): Promise<{
  publicKey: string;
  privateKey: string;
  fingerprint: string;
}> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const publicRaw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  const seed = pkcs8.subarray(PKCS8_ED25519_SEED_OFFSET, PKCS8_ED25519_SEED_OFFSET + 32);
  const type = ascii('ssh-ed25519');
  const publicBlob = concat(sshString(type), sshString(publicRaw));
  const check = crypto.getRandomValues(new Uint8Array(4));
  let secret = concat(
    check,
    check,
    sshString(type),
    sshString(publicRaw),
    sshString(concat(seed, publicRaw)),
    sshString(ascii(comment)),
  );
  // The private section is padded with 1, 2, 3, ... to the cipher block size (8 for "none").
  const padding = (8 - (secret.length % 8)) % 8;
  secret = concat(
    secret,
    Uint8Array.from({ length: padding }, (_, i) => i + 1),
  );
  const container = concat(
    ascii('openssh-key-v1\0'),
    sshString(ascii('none')),
    sshString(ascii('none')),
    sshString(new Uint8Array()),
    Uint8Array.of(0, 0, 0, 1),
    sshString(publicBlob),
    sshString(secret),
  );
  return {
    publicKey: `ssh-ed25519 ${toBase64(publicBlob)} ${comment}`,
    privateKey: pemLines('OPENSSH PRIVATE KEY', container),
    fingerprint: fingerprint(publicBlob),
  };
}

// An X.509 certificate is a DER SEQUENCE of tbsCertificate, signatureAlgorithm and signature; inside
// tbsCertificate the fields come in a fixed order, the version and the trailing ones being optional.
const DER_SEQUENCE = 0x30;
const DER_INTEGER = 0x02;
const DER_BIT_STRING = 0x03;
const TBS_VERSION = 0xa0;
const TBS_OPTIONAL_TAIL = [0x81, 0x82, 0xa3];

interface DerElement {
  tag: number;
  /** Where the element's content starts and ends (the end is where the next element starts). */
  start: number;
  end: number;
}

function readDer(der: Uint8Array, offset: number, limit: number): DerElement {
  if (offset + 2 > limit) throw new InvalidPublicKey('the certificate is truncated');
  const tag = der[offset] as number;
  let length = der[offset + 1] as number;
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > limit) {
      throw new InvalidPublicKey('the certificate has an invalid DER length');
    }
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (der[start + i] as number);
    start += octets;
  }
  if (start + length > limit) throw new InvalidPublicKey('the certificate is truncated');
  return { tag, start, end: start + length };
}

/** The elements inside a constructed DER element, in order. */
function derChildren(der: Uint8Array, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = parent.start; offset < parent.end; ) {
    const child = readDer(der, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
}

function checkCertificateStructure(der: Uint8Array): void {
  const certificate = readDer(der, 0, der.length);
  if (certificate.tag !== DER_SEQUENCE || certificate.end !== der.length) {
    throw new InvalidPublicKey('the certificate is not one DER SEQUENCE');
  }
  const [tbs, algorithm, signature, ...extra] = derChildren(der, certificate);
  if (
    tbs?.tag !== DER_SEQUENCE ||
    algorithm?.tag !== DER_SEQUENCE ||
    signature?.tag !== DER_BIT_STRING ||
    extra.length > 0
  ) {
    throw new InvalidPublicKey('the certificate is not tbsCertificate, signatureAlgorithm, signature');
  }
  const fields = derChildren(der, tbs);
  if (fields[0]?.tag === TBS_VERSION) fields.shift();
  const [serial, ...rest] = fields;
  // signature algorithm, issuer, validity, subject, subjectPublicKeyInfo
  const sequences = rest.slice(0, 5);
  if (
    serial?.tag !== DER_INTEGER ||
    sequences.length !== 5 ||
    sequences.some((field) => field.tag !== DER_SEQUENCE) ||
    rest.slice(5).some((field) => !TBS_OPTIONAL_TAIL.includes(field.tag))
  ) {
    throw new InvalidPublicKey('the certificate does not hold the fields of an X.509 tbsCertificate');
  }
}

/**
 * Checks a PEM X.509 certificate and returns it as given with Nova's fingerprint for it: the SHA-1 of
 * the certificate's DER as colon-separated hex pairs (what `openssl x509 -fingerprint -sha1` prints,
 * in lower case).
 */
export async function parseX509Certificate(pem: string): Promise<{ publicKey: string; fingerprint: string }> {
  const block = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/.exec(pem);
  if (!block?.[1]) throw new InvalidPublicKey('expected a PEM "CERTIFICATE" block');
  const der = fromBase64(block[1].replace(/\s+/g, ''));
  checkCertificateStructure(der);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-1', der));
  return { publicKey: pem, fingerprint: colonHex(digest) };
}
