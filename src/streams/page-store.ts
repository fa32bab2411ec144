/**
 * Pages of Kandji records held in the worker process between the fetch activity that read them and the ship
 * activity that sends them, so that records never travel through Temporal's history (only a page id does).
 * Bounded in bytes (least recently used pages go first) and in age; a page that is gone is read again from Kandji
 * by the ship activity, with the same request.
 */
export interface StoredPage<T = Record<string, unknown>> {
  records: T[];
  /** Approximate bytes of the records (their JSON size as received). */
  bytes: number;
  /** Whatever the reader wants to keep beside the records (e.g. the cursor they advance to). */
  meta: unknown;
  storedAt: number;
}

export interface PageStoreOptions {
  /** Total bytes held; past it the least recently used pages are dropped. Default 512 MB. */
  maxBytes?: number;
  /** Pages older than this are dropped. Default 24 h (longer than any Datadog outage worth waiting out). */
  maxAgeMs?: number;
  now?: () => number;
}

export class PageStore {
  private readonly pages = new Map<string, StoredPage>();
  private bytes = 0;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  /** Pages dropped to stay within the bounds (each costs one Kandji request to read again). */
  evicted = 0;

  constructor(opts: PageStoreOptions = {}) {
    this.maxBytes = opts.maxBytes ?? 512 * 1024 * 1024;
    this.maxAgeMs = opts.maxAgeMs ?? 24 * 3_600_000;
    this.now = opts.now ?? Date.now;
  }

  put(id: string, page: Omit<StoredPage, 'storedAt'>): void {
    this.delete(id);
    this.pages.set(id, { ...page, storedAt: this.now() });
    this.bytes += page.bytes;
    this.evict(id);
  }

  /** The page, refreshed as most recently used; undefined when it was never here or was dropped. */
  get(id: string): StoredPage | undefined {
    this.evict(undefined, false);
    const page = this.pages.get(id);
    if (!page) return undefined;
    this.pages.delete(id);
    this.pages.set(id, page);
    return page;
  }

  delete(id: string): void {
    const page = this.pages.get(id);
    if (!page) return;
    this.pages.delete(id);
    this.bytes -= page.bytes;
  }

  get size(): number {
    return this.pages.size;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  /** Drops pages too old; then, when `byBytes`, least recently used ones while over the byte bound (never `keep`). */
  private evict(keep?: string, byBytes = true): void {
    const oldest = this.now() - this.maxAgeMs;
    const drop = (id: string) => {
      this.delete(id);
      this.evicted += 1;
    };
    for (const [id, page] of this.pages) if (page.storedAt < oldest) drop(id);
    if (!byBytes) return;
    for (const id of [...this.pages.keys()]) {
      if (this.bytes <= this.maxBytes) break;
      if (id !== keep) drop(id);
    }
  }
}
