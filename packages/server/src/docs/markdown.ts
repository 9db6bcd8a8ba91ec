/**
 * A small Markdown → HTML renderer for the project's own docs (no dependency): headings with GitHub's anchors,
 * paragraphs, fenced code, tables, lists, block quotes, inline code, bold, italics, links and images. Raw HTML
 * in the source is escaped, never passed through, so a page cannot inject markup. Relative links are resolved
 * by the caller's `resolveLink`, because where a file is served decides what its links must point at.
 */

export interface RenderOptions {
  /** Turns a relative link or image target (as written) into the URL to put in the page. */
  resolveLink(target: string): string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens (as docs' link test expects). */
export function headingSlug(text: string): string {
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#') || target.startsWith('/');

function renderInline(text: string, options: RenderOptions): string {
  // Code spans first, kept aside so nothing inside them is read as Markdown.
  const codes: string[] = [];
  let out = text.replace(/`([^`]+)`/g, (_m, code: string) => `\u0000${codes.push(`<code>${escapeHtml(code)}</code>`) - 1}\u0000`);
  out = escapeHtml(out).replace(/\\\|/g, '|');
  const url = (target: string) => escapeHtml(isExternal(target) ? target : options.resolveLink(target));
  out = out.replace(/!\[([^\]]*)\]\(\s*(?:&lt;)?([^)\s]+?)(?:&gt;)?(?:\s+&quot;[^)]*&quot;)?\s*\)/g,
    (_m, alt: string, target: string) => `<img src="${url(unescapeHtml(target))}" alt="${alt}">`);
  out = out.replace(/\[([^\]]+)\]\(\s*(?:&lt;)?([^)\s]+?)(?:&gt;)?(?:\s+&quot;[^)]*&quot;)?\s*\)/g,
    (_m, label: string, target: string) => `<a href="${url(unescapeHtml(target))}">${label}</a>`);
  out = out.replace(/&lt;(https?:\/\/[^\s&]+)&gt;/g, '<a href="$1">$1</a>'); // autolinks <https://…>
  out = out.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>').replace(/(^|[^\w*])\*([^*\s][^*]*)\*(?!\w)/g, '$1<em>$2</em>');
  return out.replace(/\u0000(\d+)\u0000/g, (_m, index: string) => codes[Number(index)]);
}

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_m, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name]!);
}

/** Cells of a table row; `\|` is a literal bar, not a separator. */
function tableCells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((cell) => cell.trim());
}

const LIST_ITEM = /^(\s*)([-*]|\d+\.)\s+(.*)$/;

export function renderMarkdown(markdown: string, options: RenderOptions): string {
  const lines = markdown.replace(/\r\n/g, '\n').replace(/<!--[\s\S]*?-->\n?/g, '').split('\n');
  const html: string[] = [];
  const slugCounts = new Map<string, number>();
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const fence = /^(```|~~~)\s*([\w+-]*)/.exec(line);
    if (fence) {
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i].startsWith(fence[1]); i++) body.push(lines[i]);
      i++;
      const language = fence[2] ? ` class="language-${escapeHtml(fence[2])}"` : '';
      html.push(`<pre><code${language}>${escapeHtml(body.join('\n'))}</code></pre>`);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const base = headingSlug(heading[2].replace(/`/g, ''));
      const count = slugCounts.get(base) ?? 0;
      slugCounts.set(base, count + 1);
      const id = count === 0 ? base : `${base}-${count}`;
      const level = heading[1].length;
      html.push(`<h${level} id="${escapeHtml(id)}">${renderInline(heading[2], options)}</h${level}>`);
      i++;
      continue;
    }
    if (line.trim().startsWith('|') && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1] ?? '')) {
      const head = tableCells(line);
      const rows: string[][] = [];
      for (i += 2; i < lines.length && lines[i].trim().startsWith('|'); i++) rows.push(tableCells(lines[i]));
      html.push('<table>', `<thead><tr>${head.map((c) => `<th>${renderInline(c, options)}</th>`).join('')}</tr></thead>`, '<tbody>',
        ...rows.map((row) => `<tr>${row.map((c) => `<td>${renderInline(c, options)}</td>`).join('')}</tr>`), '</tbody></table>');
      continue;
    }
    if (LIST_ITEM.test(line)) {
      const ordered = /^\s*\d+\./.test(line);
      const items: string[] = [];
      while (i < lines.length && lines[i].trim() !== '') {
        const item = LIST_ITEM.exec(lines[i]);
        if (item && item[1].length <= 1) items.push(item[3]);
        else items[items.length - 1] += ` ${lines[i].trim()}`; // a wrapped line continues its item
        i++;
      }
      const tag = ordered ? 'ol' : 'ul';
      html.push(`<${tag}>${items.map((text) => `<li>${renderInline(text, options)}</li>`).join('')}</${tag}>`);
      continue;
    }
    if (line.startsWith('>')) {
      const quoted: string[] = [];
      for (; i < lines.length && lines[i].startsWith('>'); i++) quoted.push(lines[i].replace(/^>\s?/, ''));
      html.push(`<blockquote>${renderMarkdown(quoted.join('\n'), options)}</blockquote>`);
      continue;
    }
    if (line.trim() === '') {
      i++;
      continue;
    }
    const paragraph: string[] = [line];
    for (i++; i < lines.length && lines[i].trim() !== '' && !/^(```|~~~|#{1,6}\s|>|\s*\|)/.test(lines[i]) && !LIST_ITEM.test(lines[i]); i++) paragraph.push(lines[i]);
    html.push(`<p>${renderInline(paragraph.join('\n'), options)}</p>`);
  }
  return html.join('\n');
}
