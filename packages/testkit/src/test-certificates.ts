import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestCertificates {
  /** The temporary directory holding every file below. */
  directory: string;
  /** PEM file of the throwaway CA: what NODE_EXTRA_CA_CERTS or SSL_CERT_FILE would name. */
  caFile: string;
  /** PEM of the CA certificate. */
  ca: string;
  /** PEM key and certificate of a server for 127.0.0.1 and localhost, signed by the CA. */
  key: string;
  cert: string;
  /** Deletes the directory. */
  dispose(): Promise<void>;
}

/**
 * A throwaway CA and a server certificate signed by it for `127.0.0.1`, `::1` and `localhost`, made with the
 * `openssl` command in a temporary directory: the TLS material of `startWebHdfsServer({ https })`.
 */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const directory = await mkdtemp(join(tmpdir(), "cluster-pack-tls-"));
  const file = (name: string) => join(directory, name);
  // Relative file names in the temporary directory: each command is one line of words.
  const openssl = (command: string) => run("openssl", command.split(" "), { cwd: directory });
  try {
    await openssl(
      "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=cluster-pack-test-CA -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout ca.key -out ca.pem",
    );
    await openssl("req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr");
    await writeFile(
      file("server.ext"),
      "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n",
    );
    await openssl(
      "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 -extfile server.ext -out server.pem",
    );
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw new Error(`openssl could not make the test certificates (is openssl installed?): ${String(error)}`);
  }
  const [ca, key, cert] = await Promise.all(
    ["ca.pem", "server.key", "server.pem"].map((name) => readFile(file(name), "utf8")),
  );
  return {
    directory,
    caFile: file("ca.pem"),
    ca: ca as string,
    key: key as string,
    cert: cert as string,
    dispose: () => rm(directory, { recursive: true, force: true }),
  };
}
