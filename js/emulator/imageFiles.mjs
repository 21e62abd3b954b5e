// Real (tiny) image bytes for the emulator's "CDN": an 8×8 flat-colour PNG or
// baseline JPEG, colour derived from the publicID so variants look different.
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function colourFor(seed) {
  const h = createHash('sha1').update(String(seed)).digest();
  return [h[0], h[1], h[2]];
}

export function pngBytes([r, g, b], size = 8) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour
  const raw = Buffer.alloc(size * (1 + size * 3));
  for (let y = 0; y < size; y++) {
    const o = y * (1 + size * 3);
    raw[o] = 0; // filter: none
    for (let x = 0; x < size; x++) raw.set([r, g, b], o + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// Baseline JPEG of one 8×8 block per component (YCbCr 4:4:4). A flat image
// has only DC coefficients, so the entropy data is tiny; Huffman tables are
// minimal but valid (DC categories 0–11 as 4-bit codes, AC = EOB only).
export function jpegBytes([r, g, b]) {
  const Y = 0.299 * r + 0.587 * g + 0.114 * b;
  const Cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b;
  const Cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b;
  const dc = [Y, Cb, Cr].map((v) => Math.round(8 * (v - 128)));
  const bytes = [];
  const seg = (marker, body) => bytes.push(0xff, marker, ((body.length + 2) >> 8) & 0xff, (body.length + 2) & 0xff, ...body);
  bytes.push(0xff, 0xd8);
  seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  seg(0xdb, [0x00, ...new Array(64).fill(1)]);
  seg(0xc0, [8, 0, 8, 0, 8, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]);
  const dcCounts = new Array(16).fill(0);
  dcCounts[3] = 12; // twelve codes of length 4
  seg(0xc4, [0x00, ...dcCounts, ...Array.from({ length: 12 }, (_, i) => i)]);
  const acCounts = new Array(16).fill(0);
  acCounts[0] = 1; // one code of length 1: EOB
  seg(0xc4, [0x10, ...acCounts, 0x00]);
  seg(0xda, [3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]);
  let bits = '';
  for (const v of dc) {
    const mag = Math.abs(v);
    const cat = mag === 0 ? 0 : Math.floor(Math.log2(mag)) + 1;
    bits += cat.toString(2).padStart(4, '0');
    if (cat > 0) {
      const val = v > 0 ? v : v + (1 << cat) - 1;
      bits += val.toString(2).padStart(cat, '0');
    }
    bits += '0'; // EOB
  }
  while (bits.length % 8) bits += '1';
  for (let i = 0; i < bits.length; i += 8) {
    const byte = parseInt(bits.slice(i, i + 8), 2);
    bytes.push(byte);
    if (byte === 0xff) bytes.push(0x00);
  }
  bytes.push(0xff, 0xd9);
  return Buffer.from(bytes);
}

export function imageFile(image) {
  const colour = colourFor(image.publicID);
  if (/\.jpe?g$/i.test(image.filename)) return { type: 'image/jpeg', bytes: jpegBytes(colour) };
  return { type: 'image/png', bytes: pngBytes(colour) };
}
