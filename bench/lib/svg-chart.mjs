// A small hand-built SVG line chart: stacked panels sharing one x axis, each with its own y axis,
// gridlines and legend. Plain SVG text (no charting dependency), enough for the soak's plot.

/** "Nice" tick values (1, 2, 5 × 10^k) covering [lo, hi]. @param {number} lo @param {number} hi */
function ticks(lo, hi, count = 5) {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => span / s <= count) ?? 10 * mag;
  const out = [];
  for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v * 1e9) / 1e9);
  if (out.at(-1) < hi) out.push(out.at(-1) + step);
  return out;
}

const esc = (/** @type {string} */ s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (/** @type {number} */ v) => String(Number(v.toPrecision(3)));

/**
 * @param {{
 *   title: string, xLabel: string, width?: number, panelHeight?: number,
 *   marks?: { x: number, label: string }[],
 *   panels: { yLabel: string, yMin?: number, series: { label: string, color: string, points: [number, number][] }[] }[]
 * }} chart
 * @returns {string} an SVG document
 */
export function lineChartSvg({ title, xLabel, width = 900, panelHeight = 220, marks = [], panels }) {
  const left = 70;
  const right = 20;
  const top = 40;
  const gap = 60;
  const plotW = width - left - right;
  const allX = panels.flatMap((p) => p.series.flatMap((s) => s.points.map(([x]) => x)));
  const xMin = Math.min(0, ...allX);
  const xTicks = ticks(xMin, Math.max(xMin + 1, ...allX), 10);
  const xLo = xTicks[0];
  const xHi = xTicks.at(-1);
  const sx = (/** @type {number} */ x) => left + ((x - xLo) / (xHi - xLo)) * plotW;
  const height = top + panels.length * (panelHeight + gap) + 10;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((panel, i) => {
    const y0 = top + i * (panelHeight + gap);
    const ys = panel.series.flatMap((s) => s.points.map(([, y]) => y)).filter(Number.isFinite);
    const yTicks = ticks(panel.yMin ?? Math.min(...ys, 0), Math.max(...ys, 1), 5);
    const yLo = yTicks[0];
    const yHi = yTicks.at(-1);
    const sy = (/** @type {number} */ y) => y0 + panelHeight - ((y - yLo) / (yHi - yLo)) * panelHeight;
    out.push(`<g>`);
    for (const t of yTicks) {
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
      out.push(`<text x="${left - 6}" y="${sy(t) + 4}" text-anchor="end" fill="#444">${fmt(t)}</text>`);
    }
    for (const t of xTicks) {
      out.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${y0}" y2="${y0 + panelHeight}" stroke="#f0f0f0"/>`);
      out.push(`<text x="${sx(t)}" y="${y0 + panelHeight + 16}" text-anchor="middle" fill="#444">${fmt(t)}</text>`);
    }
    for (const m of marks) {
      out.push(
        `<line x1="${sx(m.x)}" x2="${sx(m.x)}" y1="${y0}" y2="${y0 + panelHeight}" stroke="#999" stroke-dasharray="4 3"/>`,
        `<text x="${sx(m.x) + 4}" y="${y0 + 12}" fill="#777">${esc(m.label)}</text>`,
      );
    }
    out.push(
      `<rect x="${left}" y="${y0}" width="${plotW}" height="${panelHeight}" fill="none" stroke="#888"/>`,
      `<text transform="translate(16 ${y0 + panelHeight / 2}) rotate(-90)" text-anchor="middle">${esc(panel.yLabel)}</text>`,
      `<text x="${left + plotW / 2}" y="${y0 + panelHeight + 34}" text-anchor="middle" fill="#444">${esc(xLabel)}</text>`,
    );
    // Legend entries side by side, each as wide as its label (about 7 px a character at 12 px).
    let lx = left + 10;
    // A series with no value at all (a metric an older result lacks) gets no legend entry either.
    for (const s of panel.series.filter((x) => x.points.some(([, y]) => Number.isFinite(y)))) {
      const d = s.points
        .filter(([, y]) => Number.isFinite(y))
        .map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
        .join('');
      if (d) out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
      out.push(
        `<line x1="${lx}" x2="${lx + 18}" y1="${y0 - 8}" y2="${y0 - 8}" stroke="${s.color}" stroke-width="2.5"/>`,
        `<text x="${lx + 23}" y="${y0 - 4}">${esc(s.label)}</text>`,
      );
      lx += 45 + s.label.length * 7;
    }
    out.push(`</g>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
