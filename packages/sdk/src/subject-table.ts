/**
 * Subject id → stored value, for the decision snapshot (ADR 0014).
 *
 * Subject ids are UUIDs, written in lower case by the server. Such an id is held as its 128 bits in
 * an open-addressing table over one Int32Array (linear probing, at most half full), next to its
 * value: a lookup parses the id's 32 hex digits, hashes the four words and compares them in place,
 * exactly. It reads the id and, usually, one slot. A `Map` keyed by the string reads the id (for its
 * hash), a bucket, an entry and, unless the two strings are the same object, the stored key's
 * characters; and it keeps every id as a string (about 56 bytes each). Any other id (upper case,
 * not a UUID) goes to a `Map`, so the table answers exactly as a `Map` of the same keys would.
 *
 * Values are numbers in [0, 2^30) (an allowed mask, stored in the slot) or objects (kept in a
 * parallel array, allocated when the first one is stored). Nothing is ever deleted: the snapshot
 * is replaced whole or entries are overwritten.
 */

/** Int32 words per slot: the id's four words, then the value (mask + 1, OBJECT, or EMPTY). */
const STRIDE = 5;
const VALUE = 4;
const EMPTY = 0;
const OBJECT = -1;
/** Largest number a slot holds (exclusive): the value is stored plus one, in an int32. */
export const MAX_SLOT_NUMBER = 2 ** 30;
const INITIAL_CAPACITY = 1024;
/** Hex digit value by character code, -1 for anything but 0-9 and a-f (upper case included). */
const DIGIT = new Int8Array(65536).fill(-1);
for (let i = 0; i < 10; i++) DIGIT[48 + i] = i;
for (let i = 0; i < 6; i++) DIGIT[97 + i] = 10 + i;
const DASH = 45;

/** Where `parse` leaves a canonical UUID's four words. */
const words = new Int32Array(4);

/** Four hex digits of `s` from `at`: 0 to 0xffff, or negative when one is not a lower-case hex digit. */
function hex4(s: string, at: number): number {
  return (
    ((DIGIT[s.charCodeAt(at)] as number) << 12) |
    ((DIGIT[s.charCodeAt(at + 1)] as number) << 8) |
    ((DIGIT[s.charCodeAt(at + 2)] as number) << 4) |
    (DIGIT[s.charCodeAt(at + 3)] as number)
  );
}

/** Whether `s` is a UUID in lower case (8-4-4-4-12 hex digits); if so its 128 bits are in `words`. */
function parse(s: string): boolean {
  if (
    s.length !== 36 ||
    s.charCodeAt(8) !== DASH ||
    s.charCodeAt(13) !== DASH ||
    s.charCodeAt(18) !== DASH ||
    s.charCodeAt(23) !== DASH
  )
    return false;
  const h0 = hex4(s, 0);
  const h1 = hex4(s, 4);
  const h2 = hex4(s, 9);
  const h3 = hex4(s, 14);
  const h4 = hex4(s, 19);
  const h5 = hex4(s, 24);
  const h6 = hex4(s, 28);
  const h7 = hex4(s, 32);
  words[0] = (h0 << 16) | h1;
  words[1] = (h2 << 16) | h3;
  words[2] = (h4 << 16) | h5;
  words[3] = (h6 << 16) | h7;
  return (h0 | h1 | h2 | h3 | h4 | h5 | h6 | h7) >= 0;
}

/** A 32-bit hash of the four words (every bit of each reaches the low bits used as the index). */
function hash(a: number, b: number, c: number, d: number): number {
  let h =
    Math.imul(a ^ Math.imul(b, 0x85ebca6b), 0xc2b2ae35) ^ Math.imul(c ^ Math.imul(d, 0x27d4eb2f), 0x165667b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

export class SubjectTable<T extends object> {
  private slots: Int32Array;
  private mask: number;
  /** Objects by slot (only where the slot's value is OBJECT); null until the first is stored. */
  private objects: (T | undefined)[] | null = null;
  private held = 0;
  /** Every other id: not a UUID, or not in lower case. */
  private readonly others = new Map<string, number | T>();

  constructor(expected = 0) {
    let capacity = INITIAL_CAPACITY;
    while (capacity < expected * 2) capacity *= 2;
    this.slots = new Int32Array(capacity * STRIDE);
    this.mask = capacity - 1;
  }

  /** Ids held. */
  get size(): number {
    return this.held + this.others.size;
  }

  /** The value of `id`, or undefined. */
  get(id: string): number | T | undefined {
    if (!parse(id)) return this.others.get(id);
    const i = this.slotOf(words[0] as number, words[1] as number, words[2] as number, words[3] as number);
    const v = this.slots[i * STRIDE + VALUE] as number;
    if (v === EMPTY) return undefined;
    return v === OBJECT ? ((this.objects as T[])[i] as T) : v - 1;
  }

  /** The slot holding the id with these words, or else the empty slot where it would go. */
  private slotOf(a: number, b: number, c: number, d: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = hash(a, b, c, d) & mask; ; i = (i + 1) & mask) {
      const at = i * STRIDE;
      if (slots[at + VALUE] === EMPTY) return i;
      if (slots[at] === a && slots[at + 1] === b && slots[at + 2] === c && slots[at + 3] === d) return i;
    }
  }

  /** Sets the value of `id`: a number in [0, 2^30) or an object. */
  set(id: string, value: number | T): void {
    if (typeof value === "number" && !(Number.isInteger(value) && value >= 0 && value < MAX_SLOT_NUMBER))
      throw new RangeError("a subject table holds integers from 0 to 2^30 - 1, or objects");
    if (!parse(id)) {
      this.others.set(id, value);
      return;
    }
    if ((this.held + 1) * 2 > this.mask + 1) this.grow();
    this.put(words[0] as number, words[1] as number, words[2] as number, words[3] as number, value);
  }

  /** Stores the id's words and value (there is room). */
  private put(a: number, b: number, c: number, d: number, value: number | T): void {
    const slots = this.slots;
    const i = this.slotOf(a, b, c, d);
    const at = i * STRIDE;
    if (slots[at + VALUE] === EMPTY) {
      slots[at] = a;
      slots[at + 1] = b;
      slots[at + 2] = c;
      slots[at + 3] = d;
      this.held += 1;
    }
    if (typeof value === "number") {
      slots[at + VALUE] = value + 1;
      if (this.objects) this.objects[i] = undefined;
    } else {
      slots[at + VALUE] = OBJECT;
      if (!this.objects) this.objects = new Array<T | undefined>(this.mask + 1).fill(undefined);
      this.objects[i] = value;
    }
  }

  /** Doubles the table, re-placing every id. */
  private grow(): void {
    const old = this.slots;
    const oldObjects = this.objects;
    const capacity = (this.mask + 1) * 2;
    this.slots = new Int32Array(capacity * STRIDE);
    this.mask = capacity - 1;
    this.objects = null;
    this.held = 0;
    for (let i = 0; i * STRIDE < old.length; i++) {
      const at = i * STRIDE;
      const v = old[at + VALUE] as number;
      if (v === EMPTY) continue;
      this.put(
        old[at] as number,
        old[at + 1] as number,
        old[at + 2] as number,
        old[at + 3] as number,
        v === OBJECT ? ((oldObjects as T[])[i] as T) : v - 1,
      );
    }
  }
}
