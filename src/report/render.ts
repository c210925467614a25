// Figure specs (figure-specs.ts) to SVG with Vega in Node (no browser; text widths estimated), and SVG
// to PNG with resvg and the system fonts. Each mark that carries a description (the behaviour's full
// name) gets an SVG <title> child, which browsers show on hover.
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export async function svgOf(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return withHoverTitles(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/** PNG at `scale` times the SVG's size (2: sharp on high-density screens and in print). */
export function pngOf(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    background: 'white',
  });
  return resvg.render().asPng();
}

/** `<path aria-label="X" .../>` -> `<path aria-label="X" ...><title>X</title></path>` (Vega writes marks' descriptions as aria-label). */
export function withHoverTitles(svg: string): string {
  return svg.replace(
    /<(path|circle|rect|line)(\s[^>]*?\baria-label="([^"]*)"[^>]*?)\/>/g,
    (_all, tag: string, attrs: string, label: string) => `<${tag}${attrs}><title>${label}</title></${tag}>`,
  );
}
