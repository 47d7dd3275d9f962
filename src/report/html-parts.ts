/** Small pieces of HTML shared by the page's sections: escaping, numbers, dates, tables. */

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const esc = (value: unknown): string => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]!);

export const int = (n: number | null | undefined): string => (n === null || n === undefined ? "-" : n.toLocaleString("en-US"));
export const f3 = (n: number | null | undefined): string => (n === null || n === undefined ? "-" : n.toFixed(3));
/** "2026-11-30 18:59 UTC": dates in UTC, so a report reads the same wherever it is opened. */
export const when = (iso: string | null | undefined): string => (iso ? `${iso.slice(0, 16).replace("T", " ")} UTC` : "-");

export function table(head: string[], rows: string[][], className = ""): string {
  return `<table class="${className}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

/** A section: its title, one sentence on how to read it, and its body. */
export function section(id: string, title: string, howToRead: string, body: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2><p class="how">${esc(howToRead)}</p>${body}</section>`;
}

/** A chart the page script draws into (see page-script.ts), with its caption. */
export const chart = (name: string, caption: string, className = "") =>
  `<figure class="${className}"><div class="chart" data-chart="${name}"></div><figcaption>${esc(caption)}</figcaption></figure>`;

/** Shown where a section has nothing yet: what is missing and the command that fills it. */
export const empty = (text: string, command?: string) => `<p class="empty">${esc(text)}${command ? ` <code>${esc(command)}</code>` : ""}</p>`;

/** The data as a JSON script block, `<` escaped so that no value can close the block. */
export const jsonBlock = (id: string, data: unknown) =>
  `<script type="application/json" id="${id}">${JSON.stringify(data).replace(/</g, "\\u003c")}</script>`;
