import { escapeHtml } from './escape-html.ts';

export interface BarRow {
  label: string;
  /** One value per series. */
  values: number[];
}

const COLOURS = ['#c0392b', '#2c7fb8', '#7f8c8d'];
const ROW = 22;
const LABEL_WIDTH = 300;
const BAR_WIDTH = 360;

/**
 * A horizontal bar chart as inline SVG, one group of bars per row and one colour per series.
 * Hand-written because it is a few lines and must stay self-contained: no script, no fetch,
 * nothing for a package-controlled label to escape into (labels are escaped and cut).
 */
export function svgBarChart(rows: readonly BarRow[], options: { series: readonly string[] }): string {
  const max = Math.max(1, ...rows.flatMap((r) => r.values));
  const perSeries = Math.max(6, Math.floor((ROW - 6) / Math.max(1, options.series.length)));
  const legendHeight = 20;
  const height = legendHeight + rows.length * ROW + 4;
  const width = LABEL_WIDTH + BAR_WIDTH + 60;
  const parts: string[] = [
    `<svg class="chart" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
  ];
  options.series.forEach((name, i) => {
    const x = LABEL_WIDTH + i * 140;
    parts.push(
      `<rect x="${x}" y="4" width="10" height="10" fill="${COLOURS[i % COLOURS.length]}"/>`,
      `<text x="${x + 14}" y="13" font-size="11">${escapeHtml(name)}</text>`,
    );
  });
  rows.forEach((row, r) => {
    const y = legendHeight + r * ROW;
    const label = row.label.length > 48 ? `${row.label.slice(0, 47)}…` : row.label;
    parts.push(
      `<text x="${LABEL_WIDTH - 6}" y="${y + ROW / 2 + 4}" font-size="11" text-anchor="end"><title>${escapeHtml(row.label)}</title>${escapeHtml(label)}</text>`,
    );
    row.values.forEach((value, i) => {
      const w = Math.max(value > 0 ? 1 : 0, Math.round((value / max) * BAR_WIDTH));
      const by = y + 3 + i * perSeries;
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${by}" width="${w}" height="${perSeries - 1}" fill="${COLOURS[i % COLOURS.length]}"/>`,
        `<text x="${LABEL_WIDTH + w + 4}" y="${by + perSeries - 2}" font-size="9">${value}</text>`,
      );
    });
  });
  parts.push('</svg>');
  return parts.join('');
}
