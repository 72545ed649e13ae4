/**
 * Evaluates many rules on one event by column rather than by rule: every condition of every rule
 * is filed under the column it reads, and each column's value is tested once against all of that
 * column's conditions, giving a bitmask remembered per value (field values repeat: namespaces,
 * operations, process paths, images). A rule holds when each of its columns' masks has its bits.
 */
import type { CompiledCondition, FieldGetter } from './match-spec.js'

/** Conditions per column group: one bit each in a 31-bit mask. */
const BITS = 31
/** Distinct values remembered per column group before the memory is cleared. */
const REMEMBERED = 20_000

interface ColumnGroup {
  readonly index: number
  readonly tests: ((v: string | null) => boolean)[]
  readonly seen: Map<string | null, number>
}

/** A rule's requirement: group `group`'s mask must contain every bit of `bits`. */
interface Need {
  readonly group: number
  readonly bits: number
}

export class RuleIndex {
  readonly #groups: ColumnGroup[] = []
  readonly #rules: Need[][] = []
  readonly #masks: Int32Array

  /** `rules[i]` holds when all its conditions hold; an empty list always holds. */
  constructor(rules: readonly (readonly CompiledCondition[])[]) {
    for (const conds of rules) {
      const needs = new Map<number, number>()
      for (const c of conds) {
        let g = this.#groups.findIndex((x) => x.index === c.index && x.tests.length < BITS)
        if (g < 0) g = this.#groups.push({ index: c.index, tests: [], seen: new Map() }) - 1
        const k = this.#groups[g]!.tests.push(c.test) - 1
        needs.set(g, (needs.get(g) ?? 0) | (1 << k))
      }
      this.#rules.push([...needs].map(([group, bits]) => ({ group, bits })))
    }
    this.#masks = new Int32Array(this.#groups.length)
  }

  get size(): number {
    return this.#rules.length
  }

  /** Reads the tested columns of the current event; call before holds(). */
  load(get: FieldGetter): void {
    for (let g = 0; g < this.#groups.length; g++) {
      const group = this.#groups[g]!
      const v = get(group.index)
      let mask = group.seen.get(v)
      if (mask === undefined) {
        mask = 0
        for (let k = 0; k < group.tests.length; k++) if (group.tests[k]!(v)) mask |= 1 << k
        if (group.seen.size >= REMEMBERED) group.seen.clear()
        group.seen.set(v, mask)
      }
      this.#masks[g] = mask
    }
  }

  /** Whether rule `i` holds for the loaded event. */
  holds(i: number): boolean {
    for (const n of this.#rules[i]!) if ((this.#masks[n.group]! & n.bits) !== n.bits) return false
    return true
  }
}
