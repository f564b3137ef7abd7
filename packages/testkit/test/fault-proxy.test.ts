import { createHash, randomBytes } from "node:crypto";
import { Agent, createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type FaultProxy, type FaultProxyOptions, startFaultProxy } from "../src/index.js";

const MiB = 1024 * 1024;

/** What the origin server saw of one request. */
interface Received {
  method: string;
  url: string;
  bytes: number;
  /** Whether the whole body arrived (false when the connection broke first). */
  complete: boolean;
}

interface Origin {
  url: string;
  received: Received[];
  /** Resolves once `count` requests have ended on the server, whole or broken. */
  ended(count: number): Promise<void>;
  server: Server;
}

const started: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((thing) => thing.close()));
});

/**
 * A real HTTP server: `/echo` streams the body back; `/redirect?to=` answers 307 to `to`; `/json-location?to=`
 * answers WebHDFS noredirect-style `{"Location": to}`; anything else reads the body and answers its size and hash.
 */
async function startOrigin(): Promise<Origin> {
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  let closed = 0;
  const server = createServer((req, res) => {
    const entry: Received = { method: req.method ?? "", url: req.url ?? "", bytes: 0, complete: false };
    received.push(entry);
    const url = new URL(req.url ?? "/", "http://origin");
    const hash = createHash("sha256");
    req.on("data", (chunk: Buffer) => {
      entry.bytes += chunk.length;
      hash.update(chunk);
    });
    req.on("end", () => {
      entry.complete = true;
    });
    req.on("close", () => {
      closed += 1;
      for (const wake of waiters.splice(0)) wake();
    });
    if (url.pathname === "/echo") {
      res.writeHead(200, { "Content-Type": "application/octet-stream" });
      req.pipe(res);
      return;
    }
    req.on("end", () => {
      const to = url.searchParams.get("to") ?? "";
      if (url.pathname === "/redirect") {
        res.writeHead(307, { Location: to, "Content-Length": 0 });
        res.end();
      } else if (url.pathname === "/json-location") {
        const body = JSON.stringify({ Location: to });
        res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
        res.end(body);
      } else {
        res.writeHead(200, { "Content-Type": "application/json", "X-Origin": "yes" });
        res.end(JSON.stringify({ bytes: entry.bytes, sha256: hash.digest("hex") }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin: Origin = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    server,
    async ended(count) {
      while (closed < count) await new Promise<void>((wake) => waiters.push(wake));
    },
  };
  started.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
  return origin;
}

async function proxyFor(
  origin: Origin,
  options: Omit<FaultProxyOptions, "target"> = {},
): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ target: origin.url, ...options });
  started.push(proxy);
  return proxy;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request on a connection of its own; the body may be a stream. */
function send(
  url: string,
  options: { method?: string; body?: Buffer | AsyncIterable<Buffer>; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", agent: false, headers: options.headers });
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    const { body } = options;
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      (async () => {
        for await (const chunk of body) {
          if (!req.write(chunk)) await new Promise((drained) => req.once("drain", drained));
        }
        req.end();
      })().catch((error: unknown) => req.destroy(error as Error));
    }
  });
}

/** `count` MiB of the same random block, with the hash of everything yielded. */
function generated(count: number) {
  const block = randomBytes(MiB);
  const hash = createHash("sha256");
  return {
    hash,
    async *chunks() {
      for (let i = 0; i < count; i++) {
        hash.update(block);
        yield block;
      }
    },
  };
}

const partUrl = (base: string, part: number) => `${base}/bucket/env.pex?partNumber=${part}&uploadId=u1`;

describe("startFaultProxy", () => {
  it("passes a large streamed body through byte-exact both ways, without holding it in memory", async () => {
    const origin = await startOrigin();
    const proxy = await proxyFor(origin);
    const upload = generated(256);
    const returned = createHash("sha256");
    let returnedBytes = 0;
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 10);
    try {
      await new Promise<void>((resolve, reject) => {
        const req = request(`${proxy.url}/echo?name=a%20b`, { method: "PUT", agent: false });
        req.on("error", reject);
        req.on("response", (res) => {
          expect(res.statusCode).toBe(200);
          res.on("data", (chunk: Buffer) => {
            returned.update(chunk);
            returnedBytes += chunk.length;
          });
          res.on("end", resolve);
          res.on("error", reject);
        });
        (async () => {
          for await (const chunk of upload.chunks()) {
            if (!req.write(chunk)) await new Promise((drained) => req.once("drain", drained));
          }
          req.end();
        })().catch(reject);
      });
    } finally {
      clearInterval(sampler);
    }
    expect(returnedBytes).toBe(256 * MiB);
    expect(returned.digest("hex")).toBe(upload.hash.digest("hex"));
    expect(origin.received).toEqual([
      { method: "PUT", url: "/echo?name=a%20b", bytes: 256 * MiB, complete: true },
    ]);
    expect(proxy.requests).toMatchObject([{ method: "PUT", forwardedBytes: 256 * MiB, status: 200 }]);
    expect(proxy.requests[0]?.url.href).toBe(`${origin.url}/echo?name=a%20b`);
    // Buffering either body whole would grow by 256 MiB at least; the garbage of the chunks in flight, collected
    // when the GC gets to it, stays well below that (but near 64 MiB on a loaded machine).
    expect(peak - before).toBeLessThan(128 * MiB);
  }, 60_000);

  it("keeps the method, path, query, headers and answer of a request it does not fault", async () => {
    const origin = await startOrigin();
    const proxy = await proxyFor(origin);
    let seenHeaders: IncomingHttpHeaders = {};
    origin.server.prependListener("request", (req) => {
      seenHeaders = req.headers;
    });
    const answer = await send(`${proxy.url}/bucket/key?uploads=&x-id=1`, {
      method: "POST",
      body: Buffer.from("hello"),
      headers: { "X-Amz-Date": "20240101T000000Z", "Content-Type": "text/plain" },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers["x-origin"]).toBe("yes");
    expect(JSON.parse(answer.body.toString())).toMatchObject({ bytes: 5 });
    expect(origin.received[0]).toMatchObject({ method: "POST", url: "/bucket/key?uploads=&x-id=1" });
    // The Host the client signed (SigV4 signs it) reaches the server unchanged.
    expect(seenHeaders).toMatchObject({
      host: proxy.address,
      "x-amz-date": "20240101T000000Z",
      "content-type": "text/plain",
      "content-length": "5",
    });
  });

  it("resets the Nth matching request after K body bytes; the server never gets the whole body", async () => {
    const origin = await startOrigin();
    const proxy = await proxyFor(origin, {
      faults: [
        {
          method: "PUT",
          url: (url) => url.searchParams.get("partNumber") !== null,
          nth: 3,
          action: { kind: "reset", afterBytes: 100_000 },
        },
      ],
    });
    const part = randomBytes(MiB);
    const outcomes: string[] = [];
    for (const number of [1, 2, 3, 4]) {
      const outcome = await send(partUrl(proxy.url, number), { method: "PUT", body: part }).then(
        (answer) => `HTTP ${answer.status}`,
        (error: NodeJS.ErrnoException) => error.code ?? error.message,
      );
      outcomes.push(outcome);
    }
    expect(outcomes.slice(0, 2)).toEqual(["HTTP 200", "HTTP 200"]);
    expect(outcomes[2]).toMatch(/^(ECONNRESET|EPIPE)$/);
    expect(outcomes[3]).toBe("HTTP 200");

    await origin.ended(4);
    const third = origin.received.find((entry) => entry.url.includes("partNumber=3"));
    expect(third?.complete).toBe(false);
    expect(third?.bytes).toBeLessThanOrEqual(100_000);
    expect(proxy.requests.map(({ fault, forwardedBytes }) => ({ fault, forwardedBytes }))).toEqual([
      { fault: undefined, forwardedBytes: MiB },
      { fault: undefined, forwardedBytes: MiB },
      { fault: "reset", forwardedBytes: 100_000 },
      { fault: undefined, forwardedBytes: MiB },
    ]);
  });

  it("resets before forwarding when afterBytes is 0: the server never hears of the request", async () => {
    const origin = await startOrigin();
    const proxy = await proxyFor(origin, { faults: [{ method: "GET", action: { kind: "reset" } }] });
    await expect(send(`${proxy.url}/object`)).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(origin.received).toEqual([]);
    expect((await send(`${proxy.url}/object`)).status).toBe(200);
    expect(origin.received).toHaveLength(1);
  });

  it("resets instead of answering when the body is shorter than afterBytes", async () => {
    const origin = await startOrigin();
    const proxy = await proxyFor(origin, { faults: [{ action: { kind: "reset", afterBytes: MiB } }] });
    await expect(
      send(`${proxy.url}/object`, { method: "PUT", body: Buffer.from("small") }),
    ).rejects.toMatchObject({ code: "ECONNRESET" });
    expect(origin.received).toMatchObject([{ bytes: 5, complete: true }]);
  });

  it("answers a status without forwarding, as many times as the rule says", async () => {
    const origin = await startOrigin();
    const proxy = await proxyFor(origin);
    const fault = proxy.addFault({
      method: "PUT",
      url: (url) => url.pathname.endsWith("/env.pex"),
      times: 2,
      action: { kind: "status", status: 503, body: "SlowDown" },
    });
    const body = randomBytes(4 * MiB);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await send(partUrl(proxy.url, 1), { method: "PUT", body })).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect(fault).toMatchObject({ matched: 3, fired: 2 });
    expect(origin.received).toHaveLength(1);
    expect(proxy.requests.map((entry) => [entry.fault, entry.status])).toEqual([
      ["status", 503],
      ["status", 503],
      [undefined, 200],
    ]);
  });

  it("delays a request before forwarding it", async () => {
    const origin = await startOrigin();
    const proxy = await proxyFor(origin, { faults: [{ action: { kind: "delay", ms: 300 } }] });
    const start = Date.now();
    expect((await send(`${proxy.url}/slow`)).status).toBe(200);
    expect(Date.now() - start).toBeGreaterThanOrEqual(290);
    expect(proxy.requests[0]?.fault).toBe("delay");
  });

  it("flips one bit of the request body at the given byte; the rest arrives as sent", async () => {
    const origin = await startOrigin();
    const proxy = await proxyFor(origin, {
      faults: [{ method: "PUT", action: { kind: "flip", atByte: 70_000 } }],
    });
    const body = randomBytes(MiB);
    const corrupted = Buffer.from(body);
    corrupted[70_000] = (corrupted[70_000] ?? 0) ^ 1;
    const first = JSON.parse((await send(`${proxy.url}/object`, { method: "PUT", body })).body.toString());
    expect(first).toEqual({ bytes: MiB, sha256: createHash("sha256").update(corrupted).digest("hex") });
    const second = JSON.parse((await send(`${proxy.url}/object`, { method: "PUT", body })).body.toString());
    expect(second.sha256).toBe(createHash("sha256").update(body).digest("hex"));
    expect(proxy.requests.map((entry) => entry.fault)).toEqual(["flip", undefined]);
  });

  it("flips one bit of the answer body, streamed or rewritten", async () => {
    const origin = await startOrigin();
    const proxy = await proxyFor(origin, { faults: [{ action: { kind: "flipAnswer", atByte: 5 } }] });
    const body = randomBytes(3 * MiB);
    const echoed = (await send(`${proxy.url}/echo`, { method: "PUT", body })).body;
    expect(echoed).toHaveLength(body.length);
    expect(echoed[5]).toBe((body[5] ?? 0) ^ 1);
    expect(Buffer.compare(echoed.subarray(6), body.subarray(6))).toBe(0);
    proxy.addFault({ action: { kind: "flipAnswer", atByte: 2 } });
    const json = (await send(`${proxy.url}/json-location?to=http://example.org/x`)).body.toString();
    // 'L' (0x4c) with its lowest bit flipped is 'M'.
    expect(json).toBe('{"Mocation":"http://example.org/x"}');
  });

  it("cuts an answer short after the given bytes, so the client sees a broken body", async () => {
    const origin = await startOrigin();
    const proxy = await proxyFor(origin, { faults: [{ action: { kind: "truncate", afterBytes: 1000 } }] });
    const body = randomBytes(2 * MiB);
    const outcome = await send(`${proxy.url}/echo`, { method: "PUT", body }).then(
      (answer) => `complete ${answer.body.length}`,
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    expect(outcome).toMatch(/^(ECONNRESET|aborted)$/);
    expect(proxy.requests[0]).toMatchObject({ fault: "truncate", status: 200 });
  });

  it("stalls a request after the given body bytes until the client gives up", async () => {
    const origin = await startOrigin();
    const proxy = await proxyFor(origin, {
      faults: [{ method: "PUT", action: { kind: "stall", afterBytes: 10_000 } }],
    });
    const started = Date.now();
    const outcome = await new Promise<string>((resolve) => {
      const req = request(`${proxy.url}/object`, { method: "PUT", agent: false });
      req.setTimeout(500, () => req.destroy(new Error("gave up")));
      req.on("error", (error) => resolve(error.message));
      req.on("response", () => resolve("answered"));
      req.end(randomBytes(MiB));
    });
    expect(outcome).toBe("gave up");
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    await origin.ended(1);
    expect(origin.received).toMatchObject([{ bytes: 10_000, complete: false }]);
    await expect(
      send(`${proxy.url}/object`, { method: "PUT", body: Buffer.from("x") }),
    ).resolves.toMatchObject({
      status: 200,
    });
  });

  it("sends redirects to the target and to other loopback servers back through itself", async () => {
    const namenode = await startOrigin();
    const datanode = await startOrigin();
    const proxy = await proxyFor(namenode);
    const createUrl = `${datanode.url}/webhdfs/v1/data/env.pex?op=CREATE&namenoderpcaddress=127.0.0.1%3A1`;

    const redirect = await send(`${proxy.url}/redirect?to=${encodeURIComponent(createUrl)}`, {
      method: "PUT",
    });
    expect(redirect.status).toBe(307);
    const location = redirect.headers.location ?? "";
    expect(location).not.toContain(datanode.url);
    expect(location).toBe(
      `${await proxy.urlFor(datanode.url)}/webhdfs/v1/data/env.pex?op=CREATE&namenoderpcaddress=127.0.0.1%3A1`,
    );
    expect((await send(location, { method: "PUT", body: Buffer.from("bytes") })).status).toBe(200);
    expect(datanode.received).toMatchObject([
      { url: "/webhdfs/v1/data/env.pex?op=CREATE&namenoderpcaddress=127.0.0.1%3A1", bytes: 5 },
    ]);

    const self = await send(
      `${proxy.url}/redirect?to=${encodeURIComponent(`${namenode.url}/elsewhere?a=1`)}`,
    );
    expect(self.headers.location).toBe(`${proxy.url}/elsewhere?a=1`);

    // WebHDFS noredirect=true: the datanode is named in a JSON body.
    const json = await send(`${proxy.url}/json-location?to=${encodeURIComponent(createUrl)}`);
    expect(JSON.parse(json.body.toString())).toEqual({ Location: location });
    expect(Number(json.headers["content-length"])).toBe(json.body.length);

    // A URL that is not an http loopback server stays as it is.
    const hdfs = await send(
      `${proxy.url}/redirect?to=${encodeURIComponent("hdfs://127.0.0.1:8020/data/env.pex")}`,
    );
    expect(hdfs.headers.location).toBe("hdfs://127.0.0.1:8020/data/env.pex");

    // The rules see which server a request goes to.
    expect(proxy.requests.map((entry) => entry.url.origin)).toEqual([
      namenode.url,
      datanode.url,
      namenode.url,
      namenode.url,
      namenode.url,
    ]);
  });

  it("ends every connection and pending delay on close", async () => {
    const origin = await startOrigin();
    const proxy = await startFaultProxy({
      target: origin.url,
      faults: [{ url: (url) => url.pathname === "/held", action: { kind: "delay", ms: 60_000 } }],
    });
    const held = send(`${proxy.url}/held`);
    // A keep-alive connection left idle after its answer.
    const agent = new Agent({ keepAlive: true });
    const idle = await new Promise<Socket>((resolve, reject) => {
      const req = request(`${proxy.url}/idle`, { agent });
      req.on("error", reject);
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => resolve(req.socket as Socket));
      });
      req.end();
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const idleClosed = new Promise((resolve) => idle.once("close", resolve));
    await proxy.close();
    await expect(held).rejects.toThrow();
    await idleClosed;
    await expect(send(`${proxy.url}/after`)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    agent.destroy();
  });
});
