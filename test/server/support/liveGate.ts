/**
 * Holding a client's live requests at a gate, so a test decides when the changes they carry are delivered (used by
 * the subset snapshot tests of both clients).
 */

/** Live requests wait here while it is closed; each parked request is announced, and an abort releases it. */
export class LiveGate {
  #open = false
  #parked: (() => void)[] = []
  #onPark: (() => void) | undefined
  #pending = 0

  async pass(signal: AbortSignal | null | undefined): Promise<void> {
    if (this.#open) return
    await new Promise<void>((resolve, reject) => {
      this.#parked.push(resolve)
      this.#pending += 1
      this.#onPark?.()
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
    })
  }

  /** Resolves once a live request is (or was, since the last call) parked at the gate. */
  parked(): Promise<void> {
    if (this.#pending > 0) {
      this.#pending = 0
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      this.#onPark = () => {
        this.#onPark = undefined
        this.#pending = 0
        resolve()
      }
    })
  }

  open(): void {
    this.#open = true
    for (const resolve of this.#parked.splice(0)) resolve()
  }
}
