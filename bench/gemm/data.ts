// Seeded 8-bit test data shared by the GEMM benches (a fixed LCG: the same bytes every run).
export function rand8(n: number, lo: number, hi: number, Ctor: Int8ArrayConstructor | Uint8ArrayConstructor) {
  const a = new Ctor(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    a[i] = lo + ((s >>> 16) % (hi - lo + 1));
  }
  return a;
}
