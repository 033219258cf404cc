/**
 * What each key holds open (WebSocket connections, event streams), so that revoking a key also ends
 * them: a request made with the key was checked when it arrived, but a subscription runs on.
 */
export class KeyHoldings {
  readonly #byKey = new Map<string, Set<() => void>>();

  /** registers `close` under the key; returns the function that forgets it (call it when it closes) */
  hold(keyName: string, close: () => void): () => void {
    let set = this.#byKey.get(keyName);
    if (!set) {
      set = new Set();
      this.#byKey.set(keyName, set);
    }
    set.add(close);
    return () => {
      set.delete(close);
      if (set.size === 0 && this.#byKey.get(keyName) === set) this.#byKey.delete(keyName);
    };
  }

  /** closes everything held by keys not in `active` */
  closeAllBut(active: ReadonlySet<string>): void {
    for (const [keyName, set] of this.#byKey) {
      if (active.has(keyName)) continue;
      this.#byKey.delete(keyName);
      for (const close of set) close();
    }
  }
}
