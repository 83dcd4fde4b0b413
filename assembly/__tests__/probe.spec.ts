import { dot } from "../vec";
describe("probe", () => {
  it("works", () => {
    const a = new Float64Array(3);
    a[0] = 1; a[1] = 2; a[2] = 3;
    log(ASC_FEATURE_SIMD);
    log(<i32>(a.dataStart & 15));
    expect(dot(a.dataStart, a.dataStart, 3)).toBe(14.0);
  });
});
