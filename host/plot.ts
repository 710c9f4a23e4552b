// Figures and tables for experiments: a CSV of the series and an SVG chart rendered
// headless by vega-lite 5 + vega 5 (the same spec can drive a browser page later).
//
// Interface:
//   writeCsv(path, columns, rows)              rows: arrays of numbers/strings
//   new CsvFile(path, columns); csv.append(rows)   a CSV written as results come: the
//                                              header at once, each append reaches the
//                                              file before it returns, so a run that
//                                              fails later keeps every row done
//   lineChartSvg(spec) -> Promise<string>      x/y series, optional color field
//   writeLineChart(path, spec)                 renders and writes the SVG
//   writeRangeChart(path, spec)                medians joined by lines, min..max as
//                                              error bars (several seeds per point)

import { appendFileSync, writeFileSync } from "node:fs";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

function csvLine(r: Array<number | string>): string {
  const esc = (v: number | string): string => {
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return r.map(esc).join(",") + "\n";
}

export function toCsv(columns: string[], rows: Array<Array<number | string>>): string {
  return csvLine(columns) + rows.map(csvLine).join("");
}

export function writeCsv(path: string, columns: string[], rows: Array<Array<number | string>>): void {
  writeFileSync(path, toCsv(columns, rows));
}

export class CsvFile {
  constructor(readonly path: string, columns: string[]) {
    writeFileSync(path, toCsv(columns, []));
  }

  append(rows: Array<Array<number | string>>): void {
    if (rows.length > 0) appendFileSync(this.path, rows.map(csvLine).join(""));
  }
}

export interface LineChart {
  title: string;
  x: { field: string; title: string };
  y: { field: string; title: string };
  /** Series name field (one line per value). */
  color?: { field: string; title: string };
  data: Array<Record<string, number | string>>;
  width?: number;
  height?: number;
  /** "step-after" for windowed time series (default), "linear" with point marks for
   *  measured points. */
  interpolate?: "step-after" | "linear";
}

/** What every chart's spec begins with: schema, title, size (640 x 320 by default), data. */
function frame(c: { title: string; width?: number; height?: number; data: object[] }) {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: c.title,
    width: c.width ?? 640,
    height: c.height ?? 320,
    data: { values: c.data },
  };
}

export async function lineChartSvg(c: LineChart): Promise<string> {
  const spec: TopLevelSpec = {
    ...frame(c),
    mark: c.interpolate === "linear"
      ? { type: "line", interpolate: "linear", point: true, strokeWidth: 1.5 }
      : { type: "line", interpolate: "step-after", strokeWidth: 1.2 },
    encoding: {
      x: { field: c.x.field, type: "quantitative", title: c.x.title },
      y: { field: c.y.field, type: "quantitative", title: c.y.title },
      ...(c.color ? { color: { field: c.color.field, type: "nominal", title: c.color.title, legend: { labelLimit: 400 } } } : {}),
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  return view.toSVG();
}

export async function writeLineChart(path: string, c: LineChart): Promise<void> {
  writeFileSync(path, await lineChartSvg(c));
}

export interface RangeChart {
  title: string;
  x: { title: string };
  y: { title: string };
  /** One row per x and series: the median and the range over the runs. */
  data: Array<{ x: number; series: string; median: number; min: number; max: number }>;
  width?: number;
  height?: number;
}

export async function rangeChartSvg(c: RangeChart): Promise<string> {
  const x = { field: "x", type: "quantitative" as const, title: c.x.title };
  const color = { field: "series", type: "nominal" as const, title: "", legend: { labelLimit: 400 } };
  const spec: TopLevelSpec = {
    ...frame(c),
    layer: [
      { mark: { type: "line", interpolate: "linear", point: true, strokeWidth: 1.5 },
        encoding: { x, y: { field: "median", type: "quantitative", title: c.y.title }, color } },
      { mark: { type: "rule", strokeWidth: 1 },
        encoding: { x, y: { field: "min", type: "quantitative" }, y2: { field: "max" }, color } },
    ],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  return view.toSVG();
}

export async function writeRangeChart(path: string, c: RangeChart): Promise<void> {
  writeFileSync(path, await rangeChartSvg(c));
}
