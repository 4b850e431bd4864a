import { hash } from "node:crypto";

/**
 * The hash chain of the audit ledger (SEC-4), pure and fast.
 *
 * Event hash  H(e) = SHA-256(encode(e)), where encode (format version 1) is, in this order:
 *   u8     0x01                       format version
 *   u64be  id
 *   i64be  occurredAt, milliseconds since 1970-01-01T00:00:00Z (UTC, millisecond precision)
 *   then ten text fields: actorType, actorId, action, subjectId, category, purpose, outcome,
 *   reason, requestId, details — each as u32be byte length followed by its UTF-8 bytes, or
 *   u32be 0xFFFFFFFF and no bytes for null. `details` is canonical JSON (see canonicalJson;
 *   a missing details object counts as {}).
 *
 * Batch hash  = SHA-256(prevHash || u64be batchId || u64be eventCount || H(e1) || … || H(en)),
 * events in id order; the first batch's prevHash is genesisHash() (32 zero bytes).
 *
 * Values are always hashed as read back from the database (never as given to an insert), so the
 * sealer and the verifier see the same normalised values (lower-case uuids, jsonb numbers…).
 */

export const HASH_BYTES = 32;
export const CHAIN_FORMAT_VERSION = 1;

/** prev_hash of the first batch. A fresh copy each call, so no caller can alter the constant. */
export function genesisHash(): Buffer {
  return Buffer.alloc(HASH_BYTES);
}

/** The hashed fields of an audit event, as read from the database. */
export type ChainEvent = {
  id: number;
  occurredAt: Date;
  actorType: string;
  actorId: string;
  action: string;
  subjectId: string | null;
  category: string | null;
  purpose: string | null;
  outcome: string;
  reason: string | null;
  requestId: string | null;
  /** A JSON value (ids and counts only). */
  details: unknown;
};

const TWO_32 = 4_294_967_296;

/**
 * Canonical JSON (RFC 8785 style): object keys sorted by UTF-16 code units, no whitespace,
 * `undefined` members dropped, numbers and strings exactly as `JSON.stringify` writes them.
 * Written by hand with fast paths for the small flat objects audit details are: this runs once
 * per event on every verification.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      return jsonString(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "object":
      break;
    default: {
      const text = JSON.stringify(value);
      if (text === undefined) throw new TypeError("canonicalJson: value is not representable in JSON");
      return text;
    }
  }
  if (value === null) return "null";
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      const item = value[i];
      out += item === undefined ? "null" : canonicalJson(item);
    }
    return `${out}]`;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === "function")
    return canonicalJson(JSON.parse(JSON.stringify(value)));
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 0) return "{}";
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      keys.sort();
      break;
    }
  }
  let out = "{";
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const item = record[key];
    if (item === undefined) continue;
    if (!first) out += ",";
    first = false;
    out += jsonString(key);
    out += ":";
    out += canonicalJson(item);
  }
  return `${out}}`;
}

/** JSON.stringify(text), without the native call for short plain ASCII text. */
function jsonString(text: string): string {
  return text.length <= 64 && isPlainAscii(text) ? `"${text}"` : JSON.stringify(text);
}

/** Printable ASCII with nothing JSON escapes (no control characters, quote or backslash). */
function isPlainAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** Views of the encoder buffer are cached per length up to this many bytes (covers typical events). */
const MAX_CACHED_VIEW = 2048;

/**
 * Encodes and hashes events, reusing one growable buffer (one encoder per verifier/sealer; not
 * shared across concurrent async work). Verification runs this once per stored event, so the
 * encoder allocates nothing per event on the common path: text and small details are written
 * byte by byte into the buffer (no intermediate strings, arrays or concatenation), and the view
 * handed to SHA-256 is reused per length. The bytes are exactly those of format version 1 above.
 */
export class EventHasher {
  #buf = Buffer.allocUnsafe(1024);
  /** #buf.subarray(0, n) by n, made once: valid until #buf is replaced. */
  #views: (Buffer | undefined)[] = [];

  /** The canonical bytes of `e`; a view into the internal buffer, valid until the next call. */
  encode(e: ChainEvent): Buffer {
    return this.#view(this.#encode(e));
  }

  /** H(e) as 32 bytes in a latin1 string (one char per byte): cheap to join and compare. */
  digestLatin1(e: ChainEvent): string {
    return hash("sha256", this.#view(this.#encode(e)), "binary");
  }

  /** H(e) as a Buffer. */
  digest(e: ChainEvent): Buffer {
    return Buffer.from(this.digestLatin1(e), "latin1");
  }

  /** H(e1) || … || H(en), the `event_hashes` of a batch. */
  digestAll(events: readonly ChainEvent[]): Buffer {
    const parts: string[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) parts[i] = this.digestLatin1(events[i] as ChainEvent);
    return Buffer.from(parts.join(""), "latin1");
  }

  #view(length: number): Buffer {
    if (length > MAX_CACHED_VIEW) return this.#buf.subarray(0, length);
    let view = this.#views[length];
    if (view === undefined) {
      view = this.#buf.subarray(0, length);
      this.#views[length] = view;
    }
    return view;
  }

  #encode(e: ChainEvent): number {
    // Room for the fixed part and all ten length prefixes, and every text field at the worst
    // case of 3 UTF-8 bytes per UTF-16 unit; details reserve their own room as they are written.
    const texts =
      e.actorType.length +
      e.actorId.length +
      e.action.length +
      (e.subjectId?.length ?? 0) +
      (e.category?.length ?? 0) +
      (e.purpose?.length ?? 0) +
      e.outcome.length +
      (e.reason?.length ?? 0) +
      (e.requestId?.length ?? 0);
    const buf = this.#reserve(0, 17 + 40 + 3 * texts + 64);
    buf[0] = CHAIN_FORMAT_VERSION;
    writeInt64(buf, 1, e.id);
    writeInt64(buf, 9, e.occurredAt.getTime());
    let o = writeText(buf, 17, e.actorType);
    o = writeText(buf, o, e.actorId);
    o = writeText(buf, o, e.action);
    o = writeText(buf, o, e.subjectId);
    o = writeText(buf, o, e.category);
    o = writeText(buf, o, e.purpose);
    o = writeText(buf, o, e.outcome);
    o = writeText(buf, o, e.reason);
    o = writeText(buf, o, e.requestId);
    // details: canonical JSON written straight into the buffer, its length filled in after.
    const start = o + 4;
    const end = this.#json(start, e.details ?? {});
    writeUint32(this.#buf, o, end - start);
    return end;
  }

  /**
   * Writes the UTF-8 bytes of canonicalJson(value) at offset and returns the end offset. Plain
   * ASCII strings, safe integers and flat objects take fast paths; anything else goes through
   * canonicalJson, so the bytes are always exactly those of canonicalJson.
   */
  #json(offset: number, value: unknown): number {
    if (typeof value === "number" && Number.isSafeInteger(value))
      return writeInteger(this.#reserve(offset, 17), offset, value);
    if (typeof value === "string") {
      if (value.length <= 64 && isPlainAscii(value))
        return writeQuoted(this.#reserve(offset, 66), offset, value);
      return this.#utf8(offset, JSON.stringify(value));
    }
    if (
      value === null ||
      typeof value !== "object" ||
      Array.isArray(value) ||
      typeof (value as { toJSON?: unknown }).toJSON === "function"
    ) {
      return this.#utf8(offset, canonicalJson(value));
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    for (let i = 1; i < keys.length; i++) {
      if ((keys[i - 1] as string) > (keys[i] as string)) {
        keys.sort();
        break;
      }
    }
    this.#reserve(offset, 1)[offset] = 0x7b; // {
    let o = offset + 1;
    let first = true;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const item = record[key];
      if (item === undefined) continue;
      if (!first) this.#reserve(o, 1)[o++] = 0x2c; // ,
      first = false;
      o = this.#json(o, key);
      this.#reserve(o, 1)[o++] = 0x3a; // :
      o = this.#json(o, item);
    }
    this.#reserve(o, 1)[o++] = 0x7d; // }
    return o;
  }

  #utf8(offset: number, text: string): number {
    const buf = this.#reserve(offset, 3 * text.length);
    return offset + buf.write(text, offset, "utf8");
  }

  /** Makes room for `bytes` more bytes after `offset`, keeping what is written. */
  #reserve(offset: number, bytes: number): Buffer {
    if (this.#buf.length >= offset + bytes) return this.#buf;
    let size = this.#buf.length;
    while (size < offset + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.#buf.copy(grown, 0, 0, offset);
    this.#buf = grown;
    this.#views = [];
    return grown;
  }
}

/** u32be length and UTF-8 bytes of `text`, or u32be 0xFFFFFFFF for null; room is reserved by the caller. */
function writeText(buf: Buffer, offset: number, text: string | null): number {
  if (text === null) {
    buf[offset] = 0xff;
    buf[offset + 1] = 0xff;
    buf[offset + 2] = 0xff;
    buf[offset + 3] = 0xff;
    return offset + 4;
  }
  const start = offset + 4;
  const n = text.length;
  let length = n;
  // Short ASCII strings (codes, short ids) are copied in JS: cheaper than a call into native code;
  // from about a uuid's length on, the native UTF-8 writer wins.
  let i = 0;
  if (n <= 24) {
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c > 0x7f) break;
      buf[start + i] = c;
    }
  }
  if (i !== n) length = buf.write(text, start, "utf8");
  writeUint32(buf, offset, length);
  return start + length;
}

function writeUint32(buf: Buffer, offset: number, value: number): void {
  buf[offset] = value >>> 24;
  buf[offset + 1] = (value >>> 16) & 0xff;
  buf[offset + 2] = (value >>> 8) & 0xff;
  buf[offset + 3] = value & 0xff;
}

/** `"text"` for plain ASCII text (see isPlainAscii), as JSON.stringify writes it. */
function writeQuoted(buf: Buffer, offset: number, text: string): number {
  buf[offset] = 0x22;
  for (let i = 0; i < text.length; i++) buf[offset + 1 + i] = text.charCodeAt(i);
  buf[offset + 1 + text.length] = 0x22;
  return offset + text.length + 2;
}

/** A safe integer in decimal, exactly as String() writes it (-0 as "0"), without making the string. */
function writeInteger(buf: Buffer, offset: number, value: number): number {
  let o = offset;
  let v = value;
  if (v < 0) {
    buf[o++] = 0x2d; // -
    v = -v;
  }
  let digits = 1;
  for (let p = 10; p <= v; p *= 10) digits++;
  for (let i = digits - 1; i >= 0; i--) {
    const q = Math.floor(v / 10);
    buf[o + i] = 0x30 + (v - q * 10);
    v = q;
  }
  return o + digits;
}

function writeInt64(buf: Buffer, offset: number, value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`hash chain: ${value} is not a safe integer`);
  const high = Math.floor(value / TWO_32);
  const low = value - high * TWO_32;
  buf[offset] = (high >>> 24) & 0xff;
  buf[offset + 1] = (high >>> 16) & 0xff;
  buf[offset + 2] = (high >>> 8) & 0xff;
  buf[offset + 3] = high & 0xff;
  buf[offset + 4] = low >>> 24;
  buf[offset + 5] = (low >>> 16) & 0xff;
  buf[offset + 6] = (low >>> 8) & 0xff;
  buf[offset + 7] = low & 0xff;
}

const batchHeader = Buffer.alloc(HASH_BYTES + 16);

/** SHA-256(prevHash || u64be batchId || u64be eventCount || eventHashes). */
export function batchHash(
  prevHash: Uint8Array,
  batchId: number,
  eventCount: number,
  eventHashes: Uint8Array,
): Buffer {
  if (prevHash.length !== HASH_BYTES) throw new RangeError("hash chain: prevHash must be 32 bytes");
  batchHeader.set(prevHash, 0);
  writeInt64(batchHeader, HASH_BYTES, batchId);
  writeInt64(batchHeader, HASH_BYTES + 8, eventCount);
  return hash("sha256", Buffer.concat([batchHeader, eventHashes]), "buffer");
}

export type ChainBatch = {
  batchId: number;
  prevHash: Uint8Array;
  hash: Uint8Array;
  eventCount: number;
  /** H(e1) || … || H(en) as sealed. */
  eventHashes: Uint8Array;
};

export type ChainBreak = { batchId: number; eventId?: number; reason: string };

/**
 * Checks one batch record against the previous batch: batch ids follow each other, prevHash
 * links, the stored event hashes have the stored count and recompute to the stored hash.
 * Returns the break, or undefined when the batch record is sound.
 */
export function checkBatchLink(
  batch: ChainBatch,
  previous: { batchId: number; hash: Uint8Array } | null,
): ChainBreak | undefined {
  const expectedId = previous ? previous.batchId + 1 : 1;
  if (batch.batchId !== expectedId) {
    return {
      batchId: batch.batchId,
      reason:
        batch.batchId > expectedId
          ? `batch ${expectedId}${batch.batchId - expectedId > 1 ? `..${batch.batchId - 1}` : ""} is missing (deleted)`
          : `batch ids out of order: expected ${expectedId}`,
    };
  }
  const prev = previous ? previous.hash : genesisHash();
  if (!Buffer.from(batch.prevHash).equals(Buffer.from(prev))) {
    return {
      batchId: batch.batchId,
      reason: "prev_hash does not match the previous batch's hash (batch edited or replaced)",
    };
  }
  if (batch.eventHashes.length !== batch.eventCount * HASH_BYTES) {
    return {
      batchId: batch.batchId,
      reason: "event_count does not match the sealed event hashes (batch edited)",
    };
  }
  const recomputed = batchHash(batch.prevHash, batch.batchId, batch.eventCount, batch.eventHashes);
  if (!recomputed.equals(Buffer.from(batch.hash))) {
    return { batchId: batch.batchId, reason: "batch hash does not match its contents (batch edited)" };
  }
  return undefined;
}

/**
 * Checks events[from..to) of one batch — which sit at positions startPosition… of the batch, in id
 * order — against its sealed event hashes, and names the first event that differs: edited,
 * reordered, missing (deleted) or extra.
 */
export function checkBatchEvents(
  hasher: EventHasher,
  batch: { batchId: number; eventCount: number; eventHashesLatin1: string },
  events: readonly ChainEvent[],
  from: number,
  to: number,
  startPosition: number,
): ChainBreak | undefined {
  const sealed = batch.eventHashesLatin1;
  for (let i = from; i < to; i++) {
    const e = events[i] as ChainEvent;
    const position = startPosition + (i - from);
    if (position >= batch.eventCount) {
      return {
        batchId: batch.batchId,
        eventId: e.id,
        reason: "event was not sealed in this batch (inserted or moved)",
      };
    }
    const digest = hasher.digestLatin1(e);
    if (sealed.startsWith(digest, position * HASH_BYTES)) continue;
    return {
      batchId: batch.batchId,
      eventId: e.id,
      reason: explainMismatch(sealed, batch.eventCount, digest, position),
    };
  }
  return undefined;
}

function explainMismatch(sealed: string, count: number, digest: string, position: number): string {
  // The event matches a later slot: the event(s) sealed between were deleted.
  for (let j = position + 1; j < count; j++) {
    if (sealed.startsWith(digest, j * HASH_BYTES)) {
      const missing = j - position;
      return `${missing} event${missing > 1 ? "s" : ""} sealed just before this one ${missing > 1 ? "are" : "is"} missing (deleted)`;
    }
  }
  for (let j = 0; j < position; j++) {
    if (sealed.startsWith(digest, j * HASH_BYTES))
      return `event was sealed at position ${j + 1}, found at ${position + 1} (reordered)`;
  }
  return "event does not match its sealed hash (edited, or its id or order changed)";
}
