// A folder upload that survives a reload: what was sent is journalled in this browser per file (a key from its
// path, size and date), and a resumed upload also skips what the server already has, so that no file is lost or sent
// twice. Pure functions; the component does the I/O.

/** The part of a `File` the plan needs (tests pass plain objects). */
export interface FileLike {
  name: string;
  size: number;
  lastModified: number;
  webkitRelativePath?: string;
}

export interface UploadJournal {
  /** The folder's name (its first path segment), to tell the person which folder to pick again. */
  folder: string;
  target: number;
  kind: 'good' | 'defect' | 'predict';
  total: number;
  /** Keys of the files the server confirmed. */
  done: string[];
  startedAt: string;
}

/** A short stable key of a file: the same file picked again after a reload gives the same key. */
export function uploadKey(file: FileLike): string {
  return hash53(`${file.webkitRelativePath || file.name}\u0000${file.size}\u0000${file.lastModified}`);
}

/** The item id the server makes of a file name: the name without its extension. */
export function itemIdOfFile(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

export function folderOf(file: FileLike): string {
  return (file.webkitRelativePath || file.name).split('/')[0];
}

export interface UploadPlan<F extends FileLike> {
  /** Files to send, in order. */
  send: F[];
  /** Files already on the server (journalled, or their item exists in the line), left out. */
  skipped: F[];
  /** Files whose name another file of the folder has too: one item would take both, so they are refused here. */
  clashing: F[];
}

/**
 * What to send of a picked folder. On a resume (`journal` of the same folder), files the journal names or whose item
 * the server already has (`existingIds`, the line's item ids) are skipped: the server got them before the reload.
 */
export function planUpload<F extends FileLike>(files: readonly F[], journal: UploadJournal | null, existingIds: ReadonlySet<string>): UploadPlan<F> {
  const byId = new Map<string, number>();
  for (const file of files) byId.set(itemIdOfFile(file.name), (byId.get(itemIdOfFile(file.name)) ?? 0) + 1);
  const done = new Set(journal?.done ?? []);
  const plan: UploadPlan<F> = { send: [], skipped: [], clashing: [] };
  for (const file of files) {
    const id = itemIdOfFile(file.name);
    if (byId.get(id)! > 1) plan.clashing.push(file);
    else if (journal && (done.has(uploadKey(file)) || existingIds.has(id))) plan.skipped.push(file);
    else plan.send.push(file);
  }
  return plan;
}

/** Seconds left at the pace so far (bytes per second since the start); null until there is a pace to go by. */
export function etaSeconds(sentBytes: number, totalBytes: number, elapsedMs: number): number | null {
  if (sentBytes <= 0 || elapsedMs < 500) return null;
  return Math.max(0, Math.round(((totalBytes - sentBytes) * elapsedMs) / sentBytes / 1000));
}

/** `1 h 2 min`, `3 min 5 s`, `12 s`. */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s} s`;
  return `${s} s`;
}

/** cyrb53: a fast 53-bit string hash, in base 36. */
function hash53(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}
