// FNV-1a 64 of a string's UTF-8 bytes, as 16 hex digits: a short fingerprint of a result
// JSON that the page shows and the tests compare (Node, Chromium, page, command line).
const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

export function fnv1a64Text(text: string): string {
  const bytes = new TextEncoder().encode(text);
  // two 32-bit halves: BigInt per byte is slow for the 100 kB results of long runs
  let hi = Number(OFFSET >> 32n) >>> 0, lo = Number(OFFSET & 0xffffffffn) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ bytes[i]) >>> 0;
    // (hi·2³² + lo) · (2⁴⁰ + 0x1b3) mod 2⁶⁴, with 0x1b3 = 435
    const loProd = lo * 435; // < 2⁴¹: exact in a double
    const carry = Math.floor(loProd / 4294967296);
    const newLo = loProd >>> 0;
    const newHi = (Math.imul(hi, 435) + carry + ((lo << 8) >>> 0)) >>> 0;
    hi = newHi;
    lo = newLo;
  }
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
}

/** The same with BigInt (reference for the test of the fast version). */
export function fnv1a64TextBigInt(text: string): string {
  let h = OFFSET;
  for (const b of new TextEncoder().encode(text)) h = ((h ^ BigInt(b)) * PRIME) & MASK;
  return h.toString(16).padStart(16, "0");
}
