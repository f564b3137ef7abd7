import { Readable } from "node:stream";
import { resolveFileSystem } from "@cluster-pack/fs";
import { startWebHdfsServer, type WebHdfsServer, type WebHdfsServerOptions } from "@cluster-pack/testkit";
import { describe, expect, it, onTestFinished } from "vitest";
import { type HdfsFileSystemOptions, hdfsFileSystem } from "../src/index.js";
import { uniqueDirectory } from "./support.js";

async function serve(options: WebHdfsServerOptions = {}): Promise<WebHdfsServer> {
  const server = await startWebHdfsServer(options);
  onTestFinished(() => server.stop());
  return server;
}

const fileSystemOn = (servers: readonly WebHdfsServer[], options: HdfsFileSystemOptions = {}) =>
  hdfsFileSystem({ namenodes: servers.map((server) => server.namenodeUrl), user: "alice", ...options });

const text = (value: string) => Readable.from([Buffer.from(value)]);

async function readText(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

const requestsFor = (server: WebHdfsServer, op: string) =>
  server.requests.filter((request) => request.op === op);

describe("CREATE and OPEN", () => {
  it("uploads in two steps: the namenode gets no body, the datanode it names gets the bytes", async () => {
    const server = await serve();
    const fs = fileSystemOn([server]);
    const path = `${uniqueDirectory("two-step")}/env.pex`;
    await fs.put(text("archive bytes"), path);

    const creates = requestsFor(server, "CREATE");
    expect(creates.map(({ role, method, hasBody }) => ({ role, method, hasBody }))).toEqual([
      { role: "namenode", method: "PUT", hasBody: false },
      { role: "datanode", method: "PUT", hasBody: true },
    ]);
    // The datanode step is the namenode's Location, followed as given (it carries the namenode address).
    expect(creates[1]?.params).toMatchObject({
      namenoderpcaddress: server.namenodeAddress,
      "user.name": "alice",
    });
    expect(await readText(await fs.open(path))).toBe("archive bytes");
    expect(requestsFor(server, "OPEN").map((request) => request.role)).toEqual(["namenode", "datanode"]);
  });

  it("is refused by a namenode when the data is sent to it directly", async () => {
    const server = await serve();
    const response = await fetch(
      `${server.namenodeUrl}/webhdfs/v1/tmp/direct.bin?op=CREATE&user.name=alice`,
      {
        method: "PUT",
        body: "data for the datanode",
      },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      RemoteException: { exception: "IllegalArgumentException" },
    });
  });

  it("takes the datanode location as JSON with noRedirect (noredirect=true answers 200 {Location})", async () => {
    const server = await serve();
    const answer = await fetch(
      `${server.namenodeUrl}/webhdfs/v1/tmp/x?op=CREATE&user.name=alice&noredirect=true`,
      {
        method: "PUT",
      },
    );
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { Location: string }).Location).toMatch(
      new RegExp(`^${server.datanodeUrl}/`),
    );

    server.clearRequests();
    const fs = fileSystemOn([server], { noRedirect: true });
    const path = `${uniqueDirectory("noredirect")}/env.pex`;
    await fs.put(text("via json"), path);
    expect(await readText(await fs.open(path))).toBe("via json");
    const namenodeSteps = server.requests.filter(
      (request) => request.role === "namenode" && /CREATE|OPEN/.test(request.op),
    );
    expect(namenodeSteps.map((request) => request.params.noredirect)).toEqual(["true", "true"]);
  });

  it("follows the 307 of a namenode that ignores noredirect", async () => {
    const server = await serve({ noredirect: false });
    const fs = fileSystemOn([server], { noRedirect: true });
    const path = `${uniqueDirectory("legacy")}/env.pex`;
    await fs.put(text("via 307"), path);
    expect(await readText(await fs.open(path, { offset: 4 }))).toBe("307");
  });
});

describe("listing", () => {
  it("pages through a directory with LISTSTATUS_BATCH and startAfter", async () => {
    const server = await serve({ listPageSize: 3 });
    const fs = fileSystemOn([server]);
    const directory = uniqueDirectory("paged");
    const names = ["f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"];
    for (const name of [...names].reverse()) await fs.put(text(name), `${directory}/${name}`);
    server.clearRequests();

    expect((await fs.ls(directory)).map((entry) => entry.name)).toEqual(names);
    const pages = requestsFor(server, "LISTSTATUS_BATCH");
    expect(pages.map((request) => request.params.startAfter)).toEqual([undefined, "f2", "f5"]);
  });

  it("falls back to LISTSTATUS once when the namenode does not know LISTSTATUS_BATCH", async () => {
    const server = await serve({ listStatusBatch: false });
    const fs = fileSystemOn([server]);
    const directory = uniqueDirectory("old-release");
    await fs.put(text("a"), `${directory}/a.txt`);
    server.clearRequests();

    expect((await fs.ls(directory)).map((entry) => entry.name)).toEqual(["a.txt"]);
    expect((await fs.ls(directory)).map((entry) => entry.name)).toEqual(["a.txt"]);
    expect(server.requests.map((request) => request.op)).toEqual([
      "LISTSTATUS_BATCH",
      "LISTSTATUS",
      "LISTSTATUS",
    ]);
  });
});

describe("HttpFS", () => {
  it("uploads in one PUT with data=true and application/octet-stream, and reads without a redirect", async () => {
    const server = await serve({ httpfs: true });
    const fs = fileSystemOn([server], { httpfs: true });
    const path = `${uniqueDirectory("httpfs")}/env.pex`;
    await fs.put(text("through the gateway"), path);
    expect(await readText(await fs.open(path))).toBe("through the gateway");

    expect(requestsFor(server, "CREATE")).toMatchObject([{ params: { data: "true" }, hasBody: true }]);
    expect(requestsFor(server, "OPEN")).toHaveLength(1);
  });

  it("is refused by HttpFS when the data has another content type", async () => {
    const server = await serve({ httpfs: true });
    const response = await fetch(
      `${server.namenodeUrl}/webhdfs/v1/tmp/x?op=CREATE&user.name=alice&data=true`,
      {
        method: "PUT",
        body: "bytes",
        headers: { "Content-Type": "text/plain" },
      },
    );
    expect(response.status).toBe(400);
  });
});

describe("HA namenodes", () => {
  it("fails over from a standby, remembers the active namenode, and follows a later failover", async () => {
    const first = await serve({ standby: true });
    const second = await serve({ shareNamespaceWith: first });
    const path = `${uniqueDirectory("ha")}/env.pex`;
    await fileSystemOn([first, second]).put(text("replicated"), path);
    // The standby is asked once; every later request of the upload goes to the active namenode.
    expect(first.requests.map((request) => request.op)).toEqual(["GETFILESTATUS"]);
    expect(requestsFor(second, "CREATE").map((request) => request.role)).toEqual(["namenode", "datanode"]);

    // A new file system on the same namenodes starts with the one that answered last.
    first.clearRequests();
    expect((await fileSystemOn([first, second]).stat(path)).size).toBe(10);
    expect(first.requests).toEqual([]);

    second.setStandby(true);
    first.setStandby(false);
    expect(await readText(await fileSystemOn([first, second]).open(path))).toBe("replicated");
  });

  it("reports a cluster with no active namenode as TRANSIENT, naming each namenode", async () => {
    const first = await serve({ standby: true });
    const second = await serve({ standby: true, shareNamespaceWith: first });
    const fs = hdfsFileSystem({
      namenodes: [first.namenodeUrl, second.namenodeUrl],
      user: "alice",
      network: { maxAttempts: 1 },
    });
    const error = await fs.stat("/tmp").catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: "TRANSIENT",
      message: `webhdfs://${first.namenodeAddress}/tmp: no active namenode: ${first.namenodeUrl} (standby), ${second.namenodeUrl} (standby)`,
    });
  });
});

describe("identity", () => {
  it("sends a delegation token in place of user.name, and files belong to the token's user", async () => {
    const server = await serve({ delegationTokens: { "token-frank-1": "frank" } });
    const fs = fileSystemOn([server], { delegationToken: "token-frank-1" });
    const path = `${uniqueDirectory("token")}/env.pex`;
    await fs.put(text("secured"), path);

    expect(server.requests.every((request) => request.params.delegation === "token-frank-1")).toBe(true);
    expect(server.requests.some((request) => "user.name" in request.params)).toBe(false);
    expect(server.namespace.getFileStatus("hdfs", path).owner).toBe("frank");
  });

  it("acts for another user with doAs when the caller is a proxy user", async () => {
    const server = await serve({ proxyUsers: ["oozie"] });
    const fs = fileSystemOn([server], { user: "oozie", doAs: "grace" });
    const path = `${uniqueDirectory("doas")}/env.pex`;
    await fs.put(text("on behalf"), path);
    expect(server.namespace.getFileStatus("hdfs", path).owner).toBe("grace");
    expect(requestsFor(server, "CREATE").map((request) => request.params.doas)).toEqual(["grace", "grace"]);
  });

  it("takes the user from HADOOP_USER_NAME when the options name none", async () => {
    const server = await serve();
    const previous = process.env.HADOOP_USER_NAME;
    process.env.HADOOP_USER_NAME = "heidi";
    onTestFinished(() => {
      if (previous === undefined) delete process.env.HADOOP_USER_NAME;
      else process.env.HADOOP_USER_NAME = previous;
    });
    const { fs, path } = await resolveFileSystem(
      `webhdfs://${server.namenodeAddress}${uniqueDirectory("env-user")}/a`,
    );
    await fs.mkdir(path);
    expect(server.namespace.getFileStatus("hdfs", path).owner).toBe("heidi");
  });
});

describe("URIs", () => {
  it("decodes percent-encoded names and writes them back the way the user did", async () => {
    const server = await serve();
    const directory = uniqueDirectory("encoded");
    const uri = `webhdfs://${server.namenodeAddress}${directory}/my%20env%3F%23.pex`;
    const { fs, path } = await resolveFileSystem(uri, { hdfs: { user: "alice" } });
    expect(path).toBe(`${directory}/my env?#.pex`);
    expect(fs.toUri(path)).toBe(uri);
    await fs.put(text("odd name"), path);
    expect((await fs.ls(directory)).map((entry) => entry.name)).toEqual(["my env?#.pex"]);
  });

  it("keeps the hdfs:/// form in messages", async () => {
    const server = await serve();
    const { fs, path } = await resolveFileSystem("hdfs:///tmp/absent.pex", {
      hdfs: { namenodes: [server.namenodeUrl], user: "alice" },
    });
    await expect(fs.stat(path)).rejects.toThrow(
      "hdfs:///tmp/absent.pex: File does not exist: /tmp/absent.pex",
    );
  });
});
