import { createServer } from "node:net";
import { StorageError } from "@cluster-pack/fs";
import { expect } from "vitest";

let directories = 0;

/** A fresh directory under the server's world-writable /tmp, so suites never see each other's files. */
export const uniqueDirectory = (label: string) => `/tmp/${label}-${process.pid}-${++directories}`;

/** Sets environment variables (undefined removes one) and returns the function that puts the old values back. */
export function setEnvironment(values: Record<string, string | undefined>): () => void {
  const previous = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  const apply = (entries: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(entries)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(values);
  return () => apply(previous);
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

/** The StorageError a promise rejects with; its message must be one line. */
export async function caught(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(StorageError);
  const storageError = error as StorageError;
  expect(storageError.message).not.toContain("\n");
  return storageError;
}
