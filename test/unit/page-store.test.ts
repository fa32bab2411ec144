/** Pages held between fetch and ship: bounded in bytes (least recently used first) and in age. */
import { PageStore } from '../../src/streams/page-store';

const page = (bytes: number) => ({ records: [{ id: 'x' }], bytes, meta: null });

describe('PageStore', () => {
  it('drops the least recently used pages past its byte bound, never the page just stored', () => {
    const store = new PageStore({ maxBytes: 300 });
    store.put('a', page(100));
    store.put('b', page(100));
    store.put('c', page(100));
    expect(store.get('a')).toBeDefined(); // a is now the most recently used
    store.put('d', page(100));
    expect(store.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].every((id) => store.get(id))).toBe(true);
    expect(store.heldBytes).toBe(300);
    store.put('huge', page(1_000));
    expect(store.get('huge')).toBeDefined();
    expect(store.size).toBe(1);
    expect(store.evicted).toBe(4);
  });

  it('drops pages older than its age bound, and forgets deleted ones', () => {
    let now = 0;
    const store = new PageStore({ maxAgeMs: 1_000, now: () => now });
    store.put('a', page(10));
    now = 500;
    store.put('b', page(10));
    now = 1_200;
    expect(store.get('a')).toBeUndefined();
    expect(store.get('b')).toBeDefined();
    store.delete('b');
    expect(store.get('b')).toBeUndefined();
    expect(store.heldBytes).toBe(0);
  });
});
