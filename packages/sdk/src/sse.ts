/**
 * A small parser for server-sent events (the WHATWG "event stream" format): text in any chunking,
 * lines ended by CRLF, LF or CR; `event`, `data` (several lines join with "\n"), `id` and `retry`
 * fields; lines starting with ":" are comments (the server's heartbeats). An event is dispatched at
 * a blank line, and only when it has data.
 */

export type SseEvent = {
  /** The `event` field, or "message". */
  event: string;
  data: string;
  /** The `id` field of this event, if it had one. */
  id: string | undefined;
};

export type SseHandlers = {
  onEvent(event: SseEvent): void;
  /** A comment line (without the leading ":"); heartbeats arrive here. */
  onComment?(text: string): void;
  /** A valid `retry` field, in milliseconds. */
  onRetry?(ms: number): void;
};

/** Maximum length of one line; a longer one means a broken stream. */
const MAX_LINE = 16 * 1024 * 1024;

export class SseParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];
  private id: string | undefined;
  private first = true;
  /** The previous chunk ended with CR: a leading LF of the next one belongs to it. */
  private pendingCr = false;

  constructor(private readonly handlers: SseHandlers) {}

  /** Feeds decoded text; handlers run synchronously for every complete line. */
  push(chunk: string): void {
    let text = chunk;
    if (this.first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.first = false;
    }
    if (this.pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.pendingCr = false;
    this.buffer += text;
    let start = 0;
    const buf = this.buffer;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(buf.slice(start, i));
      if (c === 13) {
        if (i + 1 < buf.length) {
          if (buf.charCodeAt(i + 1) === 10) i++;
        } else this.pendingCr = true;
      }
      start = i + 1;
    }
    this.buffer = buf.slice(start);
    if (this.buffer.length > MAX_LINE) throw new Error("event stream line too long");
  }

  private line(line: string): void {
    if (line === "") {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      this.handlers.onComment?.(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.event = value;
        break;
      case "data":
        this.data.push(value);
        break;
      case "id":
        if (!value.includes("\u0000")) this.id = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.handlers.onRetry?.(Number(value));
        break;
      default:
        break;
    }
  }

  private dispatch(): void {
    const event = { event: this.event || "message", data: this.data.join("\n"), id: this.id };
    const hasData = this.data.length > 0;
    this.event = "";
    this.data = [];
    this.id = undefined;
    if (hasData) this.handlers.onEvent(event);
  }
}
