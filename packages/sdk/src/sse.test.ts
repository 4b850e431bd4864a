import { describe, expect, it } from "vitest";
import { type SseEvent, SseParser } from "./sse.ts";

function parse(chunks: string[]) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const retries: number[] = [];
  const parser = new SseParser({
    onEvent: (e) => events.push(e),
    onComment: (c) => comments.push(c),
    onRetry: (ms) => retries.push(ms),
  });
  for (const c of chunks) parser.push(c);
  return { events, comments, retries };
}

describe("SseParser", () => {
  const stream =
    '\uFEFFretry: 1000\nevent: hello\ndata: {"a":1}\n\n: heartbeat\n\nevent: change\nid: ab-2\ndata: line1\ndata: line2\n\ndata:no-space\n\n';

  it("parses events, ids, multi-line data, comments and retry", () => {
    const { events, comments, retries } = parse([stream]);
    expect(events).toEqual([
      { event: "hello", data: '{"a":1}', id: undefined },
      { event: "change", data: "line1\nline2", id: "ab-2" },
      { event: "message", data: "no-space", id: undefined },
    ]);
    expect(comments).toEqual(["heartbeat"]);
    expect(retries).toEqual([1000]);
  });

  it("gives the same events whatever the chunking and line endings (LF, CRLF, CR)", () => {
    const expected = parse([stream]).events;
    const chars = [...stream];
    expect(parse(chars).events).toEqual(expected);
    for (const size of [2, 3, 7, 13]) {
      const chunks: string[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
      expect(parse(chunks).events, `chunks of ${size}`).toEqual(expected);
    }
    const crlf = stream.replace(/\n/g, "\r\n");
    expect(parse([...crlf]).events).toEqual(expected);
    expect(parse([crlf.slice(0, 40), crlf.slice(40)]).events).toEqual(expected);
    expect(parse([stream.replace(/\n/g, "\r")]).events).toEqual(expected);
  });

  it("dispatches nothing for an event without data, and nothing before the blank line", () => {
    expect(parse(["event: ping\n\n"]).events).toEqual([]);
    expect(parse(["data: x\n"]).events).toEqual([]);
  });
});
