// drawChart draws deliveries over time as stacked bars by outcome into an
// <svg> of the page, sized to the pixels it has so text stays sharp.

const outcomes = ['delivered', 'pending', 'failed', 'dead'];

function el(svg, name, attrs, text) {
  // The page's <svg> was parsed as SVG, so its namespace is the one to use.
  const node = document.createElementNS(svg.namespaceURI, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

// niceMax rounds up to 1, 2 or 5 times a power of ten.
function niceMax(v) {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) {
    if (v <= m * p) return m * p;
  }
  return 10 * p;
}

// buckets: [{start, delivered, pending, failed, dead}], oldest first;
// bucketMs their length; label(date) formats an axis time.
export function drawChart(svg, buckets, bucketMs, label) {
  while (svg.firstChild) svg.firstChild.remove();
  const W = Math.max(280, Math.round(svg.getBoundingClientRect().width) || 640);
  const H = 180;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const left = 40, right = 10, top = 10, bottom = 24;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const n = Math.max(1, buckets.length);
  const totals = buckets.map((b) => outcomes.reduce((s, o) => s + (b[o] || 0), 0));
  const max = niceMax(Math.max(1, ...totals));

  for (const v of [0, max / 2, max]) {
    const y = top + plotH - (v / max) * plotH;
    svg.append(el(svg, 'line', { x1: left, x2: W - right, y1: y, y2: y, class: v === 0 ? 'axis' : 'grid' }));
    if (v === 0 || Number.isInteger(v)) {
      svg.append(el(svg, 'text', { x: left - 6, y: y + 4, class: 'tick', 'text-anchor': 'end' }, String(v)));
    }
  }

  const bw = plotW / n;
  const gap = Math.min(3, bw * 0.2);
  buckets.forEach((b, i) => {
    const g = el(svg, 'g', { class: 'bar' });
    const start = new Date(b.start);
    const end = new Date(start.getTime() + bucketMs);
    const parts = outcomes.filter((o) => b[o]).map((o) => `${b[o]} ${o}`);
    g.append(el(svg, 'title', {}, `${label(start)} – ${label(end)}: ${parts.length ? parts.join(', ') : 'none'}`));
    // A transparent full-height rectangle gives the tooltip a target even
    // where the bucket is empty.
    g.append(el(svg, 'rect', { x: left + i * bw, y: top, width: bw, height: plotH, class: 'hit' }));
    let y = top + plotH;
    for (const o of outcomes) {
      const v = b[o] || 0;
      if (!v) continue;
      const hgt = (v / max) * plotH;
      y -= hgt;
      g.append(el(svg, 'rect', { x: left + i * bw + gap / 2, y, width: Math.max(1, bw - gap), height: hgt, class: `seg ${o}` }));
    }
    svg.append(g);
  });

  const ticks = n >= 3 ? [0, Math.floor(n / 2), n - 1] : [0];
  for (const i of ticks) {
    const b = buckets[i];
    if (!b) continue;
    const x = left + i * bw + bw / 2;
    const anchor = i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle';
    svg.append(el(svg, 'text', { x: anchor === 'start' ? left : anchor === 'end' ? W - right : x, y: H - 6, class: 'tick', 'text-anchor': anchor }, label(new Date(b.start))));
  }
}

// summarize is the chart in one sentence, for people who cannot see it.
export function summarize(buckets, period) {
  const sum = Object.fromEntries(outcomes.map((o) => [o, 0]));
  for (const b of buckets) for (const o of outcomes) sum[o] += b[o] || 0;
  const total = outcomes.reduce((s, o) => s + sum[o], 0);
  if (total === 0) return `No deliveries in the ${period}.`;
  return `${total} ${total === 1 ? 'delivery' : 'deliveries'} in the ${period}: ${outcomes.map((o) => `${sum[o]} ${o}`).join(', ')}.`;
}
