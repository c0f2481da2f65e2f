// The few SVG pieces the bench charts share, written by hand: no charting dependency to install,
// and the files diff well when figures change.

export const PALETTE = ['#1b7f3b', '#3366cc', '#dc7a12', '#8e44ad', '#c0392b', '#7f8c8d'];

export function escapeXml(text: string): string {
	return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A whole chart: white background, a title for screen readers, a bold heading, then `body`. */
export function svgDocument(
	size: { width: number; height: number },
	title: string,
	heading: { x: number; text: string },
	body: readonly string[],
): string {
	const { width, height } = size;
	return `${[
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11" role="img">`,
		`<title>${escapeXml(title)}</title>`,
		`<rect width="${width}" height="${height}" fill="#ffffff"/>`,
		`<text x="${heading.x}" y="20" font-size="14" font-weight="bold">${escapeXml(heading.text)}</text>`,
		...body,
		'</svg>',
	].join('\n')}\n`;
}

/** A filled rectangle whose tooltip (`<title>`) tells its exact figures. */
export function bar(
	box: { x: number; y: number; width: number; height: number },
	fill: string,
	tooltip: string,
): string {
	return `<rect x="${box.x}" y="${box.y.toFixed(1)}" width="${box.width}" height="${box.height.toFixed(1)}" fill="${fill}"><title>${escapeXml(tooltip)}</title></rect>`;
}

/** Colour swatches with names, `columns` to a row, 20 px apart. */
export function legend(
	entries: readonly { name: string; color: string }[],
	area: { left: number; top: number; width: number; columns: number },
): string[] {
	return entries.flatMap(({ name, color }, i) => {
		const x = area.left + (i % area.columns) * Math.floor(area.width / area.columns);
		const y = area.top + Math.floor(i / area.columns) * 20;
		return [
			`<rect x="${x}" y="${y}" width="12" height="12" fill="${color}"/>`,
			`<text x="${x + 18}" y="${y + 10}">${escapeXml(name)}</text>`,
		];
	});
}
