// The skein spec, played as YARN would: the façade uploads a real venv to s3rver, each service's files are
// localized into a container directory (archives unpacked under their key), and the service script runs there
// with bash, as skein's `bash .skein.sh`.
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createCondaStylePrefix,
  createShippableVenv,
  execute,
  localizeContainer,
  type RunningS3rver,
  s3StorageOptions,
  startS3rver,
  type Venv,
} from "@cluster-pack/testkit";
import { getPyenvUsageFromArchive, type UploadedEnv, uploadEnv } from "cluster-pack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PythonEntryPoint, pythonService } from "../src/index.js";

let root: string;
let venv: Venv;
let s3: RunningS3rver;
let storage: ReturnType<typeof s3StorageOptions>;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "cp-yarn-container-"));
  ({ venv } = await createShippableVenv(root, {
    projectFiles: {
      "devpkg/__main__.py":
        "import sys, purepkg, devpkg\nprint('module', devpkg.STATE, purepkg.VALUE, *sys.argv[1:])\n",
      // Read beside the code, as projects often do: it only works when the zip is unpacked.
      "devpkg/settings.json": '{"lr": 0.1}\n',
    },
  }));
  s3 = await startS3rver({ buckets: ["envs"] });
  storage = s3StorageOptions(s3);
}, 180_000);

afterAll(async () => {
  await s3?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** Localizes a service's files and runs its script in the container directory; the user has no writable home. */
async function runInContainer(uploaded: UploadedEnv, run: PythonEntryPoint, krb5ccname?: string) {
  const service = pythonService(getPyenvUsageFromArchive(uploaded.packagePath), {
    run,
    editable: uploaded.editable,
    ...(uploaded.editableIndex && { editableIndex: uploaded.editableIndex }),
    ...(krb5ccname && { krb5ccname }),
    env: { JOB: "nightly" },
  });
  const container = await localizeContainer(service.files, { storage });
  try {
    await writeFile(join(container.directory, ".skein.sh"), service.script);
    const outcome = await execute("bash", [".skein.sh"], {
      cwd: container.directory,
      env: { PATH: process.env.PATH, HOME: "/nonexistent", ...service.env },
    });
    return {
      ...outcome,
      service,
      directory: await realpath(container.directory),
      cleanup: container.cleanup,
    };
  } catch (error) {
    await container.cleanup();
    throw error;
  }
}

const importBoth = [
  "import os, json, purepkg, devpkg",
  "print(os.path.realpath(purepkg.__file__))",
  "print(os.path.realpath(devpkg.__file__))",
  "print(json.load(open(os.path.join(os.path.dirname(devpkg.__file__), 'settings.json')))['lr'])",
  "print(os.environ['JOB'])",
].join("; ");

describe.each([
  ["the zipapp (env.pex)", "s3://envs/team/env.pex", "env.pex"],
  ["the unpack layout (env.pex.zip)", "s3://envs/team/env.pex.zip", "pyenv"],
])("a skein service with %s, localized as YARN would", (_, packagePath, envName) => {
  let uploaded: UploadedEnv;
  beforeAll(async () => {
    uploaded = await uploadEnv({ python: venv.python, packagePath, fsArgs: storage });
  }, 180_000);

  it("imports the wheel package from the shipped environment and the editable code from its zip", async () => {
    const { code, stdout, stderr, service, directory, cleanup } = await runInContainer(uploaded, {
      code: importBoth,
    });
    try {
      expect(stderr).toBe("");
      expect(code).toBe(0);
      // YARN reads S3 through Hadoop's S3A.
      expect(Object.values(service.files).every((file) => file.source.startsWith("s3a://envs/team/"))).toBe(
        true,
      );
      const [purepkg, devpkg, lr, job] = stdout.trim().split("\n");
      if (envName === "env.pex") {
        // Extracted into the container's own PEX_ROOT, not the (missing) home directory.
        expect(purepkg).toMatch(new RegExp(`^${directory}/\\.pex/.*/purepkg/__init__\\.py$`));
      } else {
        // The unpacked layout is a link to YARN's cache; the module comes from inside it.
        const unpacked = await realpath(join(directory, "pyenv"));
        expect(purepkg?.startsWith(`${unpacked}/`)).toBe(true);
      }
      const editableDirectory = await realpath(join(directory, "devpkg.zip"));
      expect(devpkg).toBe(`${editableDirectory}/devpkg/__init__.py`);
      expect(purepkg).not.toContain(root);
      expect(devpkg).not.toContain(root);
      expect(lr).toBe("0.1");
      expect(job).toBe("nightly");
      expect(await readFile(join(directory, "editable_packages_index"), "utf8")).toBe("devpkg\n");
    } finally {
      await cleanup();
    }
  }, 120_000);

  it("runs a module of the editable code with its arguments", async () => {
    const { code, stdout, stderr, cleanup } = await runInContainer(uploaded, {
      module: "devpkg",
      args: ["--epochs", "3", "two words"],
    });
    try {
      expect(stderr).toBe("");
      expect(code).toBe(0);
      expect(stdout).toBe("module dev wheel --epochs 3 two words\n");
    } finally {
      await cleanup();
    }
  }, 120_000);

  it("hands the job the shipped Kerberos ticket cache", async () => {
    const ticketCache = join(root, `krb5cc_${envName}`);
    await writeFile(ticketCache, "not a real ticket\n", { mode: 0o600 });
    const { code, stdout, stderr, directory, cleanup } = await runInContainer(
      uploaded,
      {
        code: "import os; name = os.environ['KRB5CCNAME']; print(name); print(open(name[5:]).read(), end='')",
      },
      `FILE:${ticketCache}`,
    );
    try {
      expect(stderr).toBe("");
      expect(code).toBe(0);
      const [name, content] = stdout.split("\n");
      expect(await realpath((name ?? "").replace(/^FILE:/, ""))).toBe(
        await realpath(join(directory, "krb5cc")),
      );
      expect(content).toBe("not a real ticket");
    } finally {
      await cleanup();
    }
  }, 120_000);
});

describe("a skein service with a conda archive (env.tar.gz), localized as YARN would", () => {
  let uploaded: UploadedEnv;
  beforeAll(async () => {
    const conda = await createCondaStylePrefix(join(root, "conda", "envs", "analytics"), [], undefined, {
      recordPython: true,
    });
    // A file naming the environment's path, as configuration often does: the archive holds conda's placeholder
    // there until conda-unpack writes the path the container unpacked it at.
    await mkdir(join(conda.prefix, "etc"), { recursive: true });
    await writeFile(join(conda.prefix, "etc", "job.conf"), `data=${conda.prefix}/share/job\n`);
    uploaded = await uploadEnv({
      python: conda.python,
      packagePath: "s3://envs/team/conda.tar.gz",
      fsArgs: storage,
    });
  }, 180_000);

  it("runs conda-unpack in the read-only localized archive before the job, which sees its real path", async () => {
    const { code, stdout, stderr, directory, cleanup } = await runInContainer(uploaded, {
      code: "import os, sys; print(open(os.path.join(sys.prefix, 'etc', 'job.conf')).read(), end='')",
    });
    try {
      expect(stderr).toBe("");
      expect(code).toBe(0);
      expect(stdout).toBe(`data=${await realpath(join(directory, "environment"))}/share/job\n`);
    } finally {
      await cleanup();
    }
  }, 120_000);
});
