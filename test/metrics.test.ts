import { describe, it, expect } from "vitest";
import { jitterJ, linearFit, saturation } from "../host/experiments/metrics.js";

describe("experiment metrics", () => {
  it("J is the mean relative deviation of the windows, in percent", () => {
    expect(jitterJ([100, 100, 100], 100)).toBe(0);
    expect(jitterJ([90, 110, 100, 100], 100)).toBeCloseTo(5, 12);
    expect(jitterJ([0, 0], 100)).toBe(100); // nothing sent: J = 100 %
  });
  it("fits a line, its r^2 and where it reaches 1", () => {
    const f = linearFit([0, 100, 200, 300], [0.05, 0.15, 0.25, 0.35]);
    expect(f.slope).toBeCloseTo(0.001, 12);
    expect(f.intercept).toBeCloseTo(0.05, 12);
    expect(f.r2).toBeCloseTo(1, 12);
    expect(saturation(f)).toBeCloseTo(950, 9);
    expect(linearFit([1, 2, 3, 4], [1, 3, 2, 4]).r2).toBeCloseTo(0.64, 12);
  });
});
