import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { machinePython, run } from "./python.js";

/** A PEP 503 simple index on 127.0.0.1, serving the files of one directory. */
export interface PackageIndex {
  /** `http://127.0.0.1:<port>/simple/`: what `--index-url` takes. */
  url: string;
  /** Requests served, by path: tests assert what was (not) fetched. */
  requests: string[];
  stop(): Promise<void>;
}

const normalize = (name: string) => name.replace(/[-_.]+/g, "-").toLowerCase();
const projectOf = (file: string) => normalize(file.replace(/\.(whl|tar\.gz|zip)$/, "").split("-")[0] ?? "");

/**
 * Starts a simple index (PEP 503) over `directory`, read on every request so a test can add files: `/simple/` lists
 * projects, `/simple/<name>/` links each file with `#sha256=…`, `/files/<file>` serves it.
 */
export async function startPackageIndex(directory: string): Promise<PackageIndex> {
  const requests: string[] = [];
  const server: Server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://index").pathname);
    requests.push(path);
    try {
      const files = (await readdir(directory)).filter((f) => /\.(whl|tar\.gz|zip)$/.test(f)).sort();
      const html = (links: string[]) => {
        response.writeHead(200, { "content-type": "text/html" });
        response.end(`<!DOCTYPE html><html><body>\n${links.join("<br/>\n")}\n</body></html>\n`);
      };
      if (path === "/simple/") {
        const projects = [...new Set(files.map(projectOf))];
        return html(projects.map((p) => `<a href="/simple/${p}/">${p}</a>`));
      }
      const project = /^\/simple\/([^/]+)\/$/.exec(path)?.[1];
      if (project) {
        const mine = files.filter((file) => projectOf(file) === normalize(project));
        if (mine.length === 0) {
          response.writeHead(404).end("not found");
          return;
        }
        const links = await Promise.all(
          mine.map(async (file) => {
            const sha256 = createHash("sha256")
              .update(await readFile(join(directory, file)))
              .digest("hex");
            return `<a href="/files/${encodeURIComponent(file)}#sha256=${sha256}">${file}</a>`;
          }),
        );
        return html(links);
      }
      const file = /^\/files\/([^/]+)$/.exec(path)?.[1];
      if (file && files.includes(file)) {
        response.writeHead(200, { "content-type": "application/octet-stream" });
        response.end(await readFile(join(directory, file)));
        return;
      }
      response.writeHead(404).end("not found");
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    requests,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

const retagScript = `import base64, hashlib, os, sys, zipfile
source, tag, out_dir = sys.argv[1:4]
base = os.path.basename(source)[:-4].split("-")
name = "-".join(base[:-3]) + "-" + tag + ".whl"
target = os.path.join(out_dir, name)
with zipfile.ZipFile(source) as wheel:
    members = [(info, wheel.read(info)) for info in wheel.infolist()]
dist_info = next(info.filename.split("/")[0] for info, _ in members if info.filename.endswith(".dist-info/WHEEL"))
def digest(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
rows = []
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
    for info, data in members:
        if info.filename == dist_info + "/RECORD":
            continue
        if info.filename == dist_info + "/WHEEL":
            lines = [l for l in data.decode().splitlines() if not l.startswith(("Tag:", "Root-Is-Purelib:"))]
            lines.append("Root-Is-Purelib: false")
            python, abi, platforms = tag.split("-")
            lines += ["Tag: %s-%s-%s" % (python, abi, p) for p in platforms.split(".")]
            data = ("\\n".join(lines) + "\\n").encode()
        out.writestr(info, data)
        rows.append("%s,%s,%d" % (info.filename, digest(data), len(data)))
    rows.append(dist_info + "/RECORD,,")
    out.writestr(dist_info + "/RECORD", "\\n".join(rows) + "\\n")
print(target)
`;

/**
 * A copy of a wheel tagged for another target (`cp312-cp312-manylinux2014_x86_64`, `py3-none-macosx_11_0_arm64`):
 * new file name, `Tag:` lines of WHEEL and RECORD made to match, so resolution and installation can be exercised
 * for a machine that is not this one. Returns the new wheel's path in `outputDirectory`.
 */
export async function retagWheel(wheel: string, tag: string, outputDirectory: string): Promise<string> {
  return (await run(machinePython, ["-c", retagScript, wheel, tag, outputDirectory])).trim();
}
