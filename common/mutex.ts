/** A FIFO async mutex: one holder at a time, waiters served in arrival order. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve()
  #locked = false

  get locked(): boolean {
    return this.#locked
  }

  async acquire(): Promise<() => void> {
    let release!: () => void
    const next = new Promise<void>((r) => (release = r))
    const prev = this.#tail
    this.#tail = prev.then(() => next)
    await prev
    this.#locked = true
    let released = false
    return () => {
      if (released) return
      released = true
      this.#locked = false
      release()
    }
  }

  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    const release = await this.acquire()
    try {
      return await fn()
    } finally {
      release()
    }
  }
}
