/**
 * The synopsis in Consul KV at `fedgres/edges/<id>/synopsis`, written for ConsulRegistration's
 * `publish`. One write is in flight at a time; concurrent publishes are coalesced: only the
 * newest waiting synopsis is written, and a synopsis older than one already written is never
 * written over it (it resolves: the newer one covers it).
 */
import type { ConsulClient } from '../../common/consul/consul-client.js'
import { synopsisKey, type Synopsis } from '../../schema/synopsis.js'

interface Waiter {
  resolve: () => void
  reject: (e: unknown) => void
}

export class SynopsisKvWriter {
  readonly #client: ConsulClient
  readonly #edgeId: string
  readonly #closed: () => boolean
  /** Highest synopsis version Consul accepted from this process. */
  #written = 0
  /** The newest synopsis waiting to be written, with everyone it will answer. */
  #pending: { synopsis: Synopsis; waiters: Waiter[] } | undefined
  #writer: Promise<void> | undefined

  /** `closed` tells whether the registration is closed: nothing is written then. */
  constructor(client: ConsulClient, edgeId: string, closed: () => boolean) {
    this.#client = client
    this.#edgeId = edgeId
    this.#closed = closed
  }

  /** The writes in flight, if any (the registration's close waits for them). */
  get writing(): Promise<void> | undefined {
    return this.#writer
  }

  /** Resolves once Consul answered `true` to this synopsis or a newer one; rejects otherwise. */
  publish(synopsis: Synopsis): Promise<void> {
    if (this.#closed()) return Promise.reject(new Error('Consul registration is closed'))
    if (synopsis.edgeId !== this.#edgeId) return Promise.reject(new Error(`synopsis of edge ${synopsis.edgeId} published by edge ${this.#edgeId}`))
    if (synopsis.version < this.#written) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject }
      if (this.#pending && synopsis.version < this.#pending.synopsis.version) this.#pending.waiters.push(waiter)
      else this.#pending = { synopsis, waiters: [...(this.#pending?.waiters ?? []), waiter] }
      this.#writer ??= this.#drain()
    })
  }

  async #drain(): Promise<void> {
    while (this.#pending) {
      const { synopsis, waiters } = this.#pending
      this.#pending = undefined
      try {
        if (this.#closed()) throw new Error('Consul registration is closed')
        if (synopsis.version >= this.#written) {
          const ok = await this.#client.kvPut(synopsisKey(this.#edgeId), JSON.stringify(synopsis))
          if (!ok) throw new Error(`Consul did not store the synopsis (KV PUT of ${synopsisKey(this.#edgeId)} was not answered true)`)
          this.#written = Math.max(this.#written, synopsis.version)
        }
        for (const w of waiters) w.resolve()
      } catch (e) {
        for (const w of waiters) w.reject(e)
      }
    }
    this.#writer = undefined
  }
}
