// Figures the experiments compute from measured series (PAPER.md section 5).
//
//   jitterJ(sent, expected)  J = mean over windows of |Real - Exp| / Exp * 100, the
//                            paper's fluctuation of the sent rate (Fig. 11-13)
//   linearFit(xs, ys)        least squares y = slope x + intercept, with r^2
//   saturation(fit, y)       x where the fit reaches y (CPU load 1.0 -> Mbps)
//   spread(xs)               median, min and max (a figure over several seeds)

export function jitterJ(sentPerWindow: ArrayLike<number>, expectedPerWindow: number): number {
  if (sentPerWindow.length === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < sentPerWindow.length; i++) sum += Math.abs(sentPerWindow[i] - expectedPerWindow) / expectedPerWindow;
  return (sum / sentPerWindow.length) * 100;
}

export interface Fit {
  slope: number;
  intercept: number;
  r2: number;
}

export function linearFit(xs: number[], ys: number[]): Fit {
  const n = xs.length;
  if (n < 2 || n !== ys.length) throw new Error("linearFit needs two or more (x, y) pairs");
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept, r2 };
}

export function saturation(f: Fit, y = 1): number {
  return (y - f.intercept) / f.slope;
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Median (mean of the middle two for an even count), min and max. */
export function spread(xs: number[]): Spread {
  if (xs.length === 0) return { median: NaN, min: NaN, max: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return { median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, min: s[0], max: s[s.length - 1] };
}
