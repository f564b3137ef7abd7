/**
 * The Python side of the interpreter probe, run once with `python -c`. It must work on Python 3.9+ with only the
 * standard library (no `packaging`), and print exactly one JSON document on stdout.
 *
 * Site directories are taken from `sys.path` as `site` built it, so the answer matches what `import` sees: a venv
 * with `include-system-site-packages = true` lists its base's directories, one without does not.
 */
export const interpreterProbeScript = String.raw`
import json, os, platform, site, sys, sysconfig

def under(path, prefix):
    path, prefix = os.path.realpath(path), os.path.realpath(prefix)
    return path == prefix or path.startswith(prefix.rstrip(os.sep) + os.sep)

def glibc_version():
    try:
        found = os.confstr("CS_GNU_LIBC_VERSION")
        if found and found.startswith("glibc "):
            return found.split()[1]
    except (AttributeError, OSError, ValueError):
        pass
    lib, version = platform.libc_ver()
    return version if lib == "glibc" and version else None

def musl_version():
    # musl has no confstr; its loader prints "Version x.y.z" on stderr when run without arguments.
    if sys.platform != "linux" or glibc_version():
        return None
    import glob, re, subprocess
    for loader in glob.glob("/lib/ld-musl-*.so.1"):
        try:
            out = subprocess.run([loader], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL).stderr.decode()
        except OSError:
            continue
        match = re.search(r"Version (\d+)\.(\d+)", out)
        if match:
            return match.group(1) + "." + match.group(2)
    return None

def macos_version():
    release = platform.mac_ver()[0]
    return release or None

is_venv = sys.prefix != sys.base_prefix
paths = sysconfig.get_paths()
user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
candidates = set(site.getsitepackages()) | {paths["purelib"], paths["platlib"]}
if user_site:
    candidates.add(user_site)
on_path = []
for entry in sys.path:
    if entry in candidates and entry not in on_path:
        on_path.append(entry)
own, system = [], []
for directory in [paths["purelib"], paths["platlib"]] + on_path:
    if directory == user_site or (is_venv and not under(directory, sys.prefix)):
        if directory not in system:
            system.append(directory)
    elif directory not in own:
        own.append(directory)

soabi = sysconfig.get_config_var("SOABI") or ""
impl = sys.implementation.name
short = {"cpython": "cp", "pypy": "pp"}.get(impl, impl)
nodot = "%d%d" % sys.version_info[:2]
if impl == "cpython":
    debug = "d" if hasattr(sys, "gettotalrefcount") else ""
    abi = "cp" + nodot + debug
elif soabi:
    abi = soabi.split("-")[0].replace(".", "_").replace("-", "_")
else:
    abi = "none"

print(json.dumps({
    "executable": sys.executable,
    "version": "%d.%d.%d" % sys.version_info[:3],
    "versionInfo": list(sys.version_info[:3]),
    "implementation": impl,
    "pythonTag": short + nodot,
    "abiTag": abi,
    "prefix": sys.prefix,
    "basePrefix": sys.base_prefix,
    "isVenv": is_venv,
    "isConda": os.path.isdir(os.path.join(sys.prefix, "conda-meta")),
    "paths": {"purelib": paths["purelib"], "platlib": paths["platlib"], "scripts": paths["scripts"]},
    "sitePackages": own,
    "systemSitePackages": system,
    "platform": platform.platform(),
    "os": sys.platform,
    "machine": platform.machine(),
    "sysconfigPlatform": sysconfig.get_platform(),
    "glibcVersion": glibc_version(),
    "muslVersion": musl_version(),
    "macosVersion": macos_version() if sys.platform == "darwin" else None,
    "pointerBits": 64 if sys.maxsize > 2**32 else 32,
}))
`;
