# cluster-pack zipapp bootstrap (Python 3.8+, standard library only).
#
# Layout (the unpack layout `env.pex.zip` unpacked as `pyenv/`, or the environment zip of a zipapp):
#   __main__.py   this file
#   PEX-INFO      JSON: pex_hash, inherit_path, entry_point, ...
#   .deps/        the environment's site-packages content (one merged directory)
# A zipapp `env.pex` is `#!/usr/bin/env python3.X`, that environment zip, then a small launcher zip holding only
# __main__.py and a copy of PEX-INFO. Python (zipimport, zipfile) reads a file's last zip: the launcher, which never
# needs ZIP64, so any Python starts it; the environment zip ends where the launcher's first entry begins.
# From a zip, `.deps/` is extracted once into $PEX_ROOT/deps/<pex_hash>; from a directory it is used in place.
# Then the archive behaves like the `python` command (or runs its entry point).
import os
import sys

_DEPS = ".deps/"


def _verbose(message):
    if os.environ.get("PEX_VERBOSE", "") not in ("", "0"):
        sys.stderr.write("pex: %s\n" % message)


def _fail(message):
    sys.stderr.write("%s\n" % message)
    sys.exit(1)


def _archive_path():
    # `__file__` is `<archive>/__main__.py` for a zipapp (zipimport) and for a directory.
    return os.path.abspath(os.path.dirname(__file__))


def _read_member(archive, name):
    loader = globals().get("__loader__")
    if loader is not None and hasattr(loader, "get_data") and not os.path.isdir(archive):
        # zipimport already holds the launcher's directory in memory: no `zipfile` import on the fast path.
        return loader.get_data(name)
    if os.path.isdir(archive):
        with open(os.path.join(archive, name), "rb") as handle:
            return handle.read()
    import zipfile

    with zipfile.ZipFile(archive) as archive_zip:
        return archive_zip.read(name)


def _pex_root():
    root = os.environ.get("PEX_ROOT")
    if root:
        # Absolute, so sys.path still finds the packages after the program changes directory (PEX_ROOT=./.pex).
        return os.path.abspath(os.path.expanduser(root))
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "cluster-pack", "pex")


def _writable_parent(directory):
    try:
        os.makedirs(directory, exist_ok=True)
        if os.access(directory, os.W_OK | os.X_OK):
            return directory
    except OSError:
        pass
    return None


class _Refused(Exception):
    """An archive the bootstrap will not extract; the message is the one line shown."""


def _refuse(archive, info, reason):
    return _Refused("%s: refusing archive entry %r: %s" % (archive, info.filename, reason))


def _is_link(info):
    return (info.external_attr >> 16) & 0o170000 == 0o120000


# Longest symlink text read (PATH_MAX on Linux): a link member is read whole, so it must stay small.
_MAX_LINK = 4096


def _check_names(archive, members):
    """Refuses, before anything is written, an entry whose path leaves the extraction directory, a name given
    twice, and an entry beneath a symlink of the archive (writing it would go wherever the link points)."""
    seen = set()
    links = set()
    for info in members:
        name = info.filename
        if name.startswith("/") or "\\" in name or "\0" in name or (len(name) > 1 and name[1] == ":") or ".." in (
            name.split("/")
        ):
            raise _refuse(archive, info, "its path leaves the extraction directory")
        # "a/./b", "a//b" and "a/b/" name the same file as "a/b".
        key = "/".join(part for part in name.split("/") if part not in ("", "."))
        if key in seen:
            raise _refuse(archive, info, "it appears twice in the archive")
        seen.add(key)
        if _is_link(info):
            links.add(key)
            if info.file_size > _MAX_LINK:
                raise _refuse(archive, info, "its symlink target is %d bytes long (at most %d)" % (info.file_size, _MAX_LINK))
    for info in members:
        parts = [part for part in info.filename.split("/") if part not in ("", ".")]
        for end in range(1, len(parts)):
            if "/".join(parts[:end]) in links:
                raise _refuse(archive, info, "it lies beneath the symlink %r" % "/".join(parts[:end]))


def _positive_setting(name, default):
    value = os.environ.get(name, "")
    if not value:
        return default
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit <= 0:
        _fail("%s must be a positive whole number, not %r" % (name, value))
    return limit


# What one archive may extract, so a damaged or crafted one cannot fill a node's disk. Both are checked on the
# central directory before anything is written; inflating then stops as soon as a member passes its declared size,
# so what lands on disk never exceeds what was checked.
# The largest GPU environments (torch with its CUDA libraries) extract to 10-20 GB: 64 GiB leaves room for them.
_MAX_EXTRACT_BYTES = 64 << 30
# zlib packs constant bytes at ~229:1 at its fastest level and ~1030:1 at its best; real package files (shared
# libraries, CUDA fatbins, weights, sources) compress under 20:1. 200:1 refuses filler whatever level made it, with
# 10x headroom over real content. Members up to 64 MiB are exempt: zero-filled test data and tables do ship, and
# each can do little harm (the total limit bounds how many).
_MAX_COMPRESSION_RATIO = 200
_RATIO_EXEMPT_BYTES = 64 << 20


def _size(count):
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return ("%d %s" if unit == "bytes" else "%.1f %s") % (count, unit)
        count /= 1024.0


def _check_sizes(archive, all_members, members):
    """Refuses members that overlap in the archive (one compressed stream counted many times), that inflate more
    than CLUSTER_PACK_MAX_COMPRESSION_RATIO, or together more than CLUSTER_PACK_MAX_EXTRACT_BYTES."""
    placed = sorted(all_members, key=lambda info: info.header_offset)
    for info, following in zip(placed, placed[1:]):
        # A lower bound of where the member's data ends: its local header is at least 30 bytes.
        if info.header_offset + _LOCAL_HEADER + info.compress_size > following.header_offset:
            raise _refuse(archive, following, "its bytes overlap those of %r" % info.filename)
    max_ratio = _positive_setting("CLUSTER_PACK_MAX_COMPRESSION_RATIO", _MAX_COMPRESSION_RATIO)
    max_total = _positive_setting("CLUSTER_PACK_MAX_EXTRACT_BYTES", _MAX_EXTRACT_BYTES)
    total = 0
    for info in members:
        if info.file_size > _RATIO_EXEMPT_BYTES and info.file_size > max_ratio * info.compress_size:
            raise _refuse(archive, info, "it inflates %s from %s, more than %d:1 (set "
                          "CLUSTER_PACK_MAX_COMPRESSION_RATIO to allow more)"
                          % (_size(info.file_size), _size(info.compress_size), max_ratio))
        total += info.file_size
    if total > max_total:
        raise _Refused("%s: refusing to extract: its files add up to %s, more than %s (set "
                       "CLUSTER_PACK_MAX_EXTRACT_BYTES to allow more)" % (archive, _size(total), _size(max_total)))


_LOCAL_HEADER = 30  # APPNOTE 4.3.7: fixed part of a local file header, then the name and the extra field
# Members up to this size are read, inflated and checked in one piece (fastest for site-packages' many small files);
# larger ones stream through bounded buffers, so a 3 GB model file neither exhausts a container's memory limit nor
# meets Linux's 2 GiB cap on a single read.
_WHOLE_MEMBER = 8 << 20
_CHUNK = 1 << 20


def _write_all(output, data):
    view = memoryview(data)
    while view:
        view = view[os.write(output, view):]


def _past_declared(archive, info):
    return _refuse(archive, info, "it inflates past its declared %s (archive damaged or tampered with)"
                   % _size(info.file_size))


def _copy_whole(archive, descriptor, output, info, start):
    import zlib

    raw = os.pread(descriptor, info.compress_size, start) if info.compress_size else b""
    # max_length: inflating stops one byte past the declared size, however much the member would expand to.
    data = zlib.decompressobj(-15).decompress(raw, info.file_size + 1) if info.compress_type == 8 else raw
    if len(data) > info.file_size:
        raise _past_declared(archive, info)
    _write_all(output, data)
    return len(data), zlib.crc32(data)


def _copy_streamed(archive, descriptor, output, info, start):
    import zlib

    inflater = zlib.decompressobj(-15) if info.compress_type == 8 else None
    size = crc = 0
    offset, left = start, info.compress_size
    while left:
        chunk = os.pread(descriptor, min(left, _CHUNK), offset)
        if not chunk:
            break  # truncated archive: the size check below reports it
        offset += len(chunk)
        left -= len(chunk)
        while chunk:
            # max_length bounds what one highly compressed chunk can expand to.
            data = inflater.decompress(chunk, 4 * _CHUNK) if inflater else chunk
            chunk = inflater.unconsumed_tail if inflater else b""
            size += len(data)
            if size > info.file_size:
                raise _past_declared(archive, info)
            _write_all(output, data)
            crc = zlib.crc32(data, crc)
    if inflater:
        data = inflater.flush()
        size += len(data)
        if size > info.file_size:
            raise _past_declared(archive, info)
        _write_all(output, data)
        crc = zlib.crc32(data, crc)
    return size, crc


def _write_members(archive, work, members, stop):
    """Writes regular files from their raw bytes in the archive, checking each CRC. Runs in a thread: pread,
    inflate, crc32 and write all release the GIL, so threads extract on every core. `stop` is set when one
    fails, so the others end at their next member."""
    import struct
    import zlib

    descriptor = os.open(archive, os.O_RDONLY)
    try:
        for info in members:
            if stop.is_set():
                return
            header = os.pread(descriptor, _LOCAL_HEADER, info.header_offset)
            if len(header) != _LOCAL_HEADER or header[:4] != b"PK\x03\x04":
                raise ValueError("bad local header for %r" % info.filename)
            if info.compress_type not in (0, 8):
                raise ValueError("unsupported compression %d for %r" % (info.compress_type, info.filename))
            name_length, extra_length = struct.unpack("<HH", header[26:30])
            start = info.header_offset + _LOCAL_HEADER + name_length + extra_length
            destination = os.path.join(work, info.filename[len(_DEPS):])
            output = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                small = max(info.file_size, info.compress_size) <= _WHOLE_MEMBER
                copy = _copy_whole if small else _copy_streamed
                try:
                    size, crc = copy(archive, descriptor, output, info, start)
                except zlib.error as error:
                    raise ValueError("cannot inflate %r (%s; archive damaged in transfer?)" % (info.filename, error))
                if size != info.file_size or crc != info.CRC:
                    raise ValueError("bad CRC-32 or size for %r (archive damaged in transfer?)" % info.filename)
                os.fchmod(output, (info.external_attr >> 16) & 0o777 or 0o644)  # the archive's mode, not the umask's
            finally:
                os.close(output)
    except BaseException:
        stop.set()
        raise
    finally:
        os.close(descriptor)


_END_RECORD = 22  # APPNOTE 4.3.16: the end of central directory record, with no comment
class _Window:
    """Bytes [0, end) of a file, read-only: the environment zip of a zipapp, which zipfile then reads as a whole
    file (it finds a zip by its end records, at the end)."""

    def __init__(self, path, end):
        self.name = path
        self._file = open(path, "rb")
        self._end = end
        self._position = 0

    def seekable(self):
        return True

    def tell(self):
        return self._position

    def seek(self, offset, whence=0):
        position = offset + (0, self._position, self._end)[whence]
        if position < 0:
            raise OSError(22, "Invalid argument")
        self._position = position
        return position

    def read(self, size=-1):
        left = max(0, self._end - self._position)
        self._file.seek(self._position)
        data = self._file.read(left if size is None or size < 0 else min(size, left))
        self._position += len(data)
        return data

    def close(self):
        self._file.close()


def _environment_end(archive):
    """Where the environment zip ends: where the launcher (the file's last zip) has its first entry, when a complete
    zip ends there; otherwise the archive is one zip holding everything (as Python's zipfile writes it)."""
    import zipfile

    with zipfile.ZipFile(archive) as launcher:
        # zipfile reports offsets from the start of the file, whether the launcher counts them from there or from
        # its own start (as it does past 4 GiB, where absolute offsets would need ZIP64).
        start = min((info.header_offset for info in launcher.infolist()), default=0)
    if start >= _END_RECORD:
        with open(archive, "rb") as handle:
            handle.seek(start - _END_RECORD)
            record = handle.read(_END_RECORD)
        if record[:4] == b"PK\x05\x06" and record[20:22] == b"\x00\x00":
            return start
    return os.path.getsize(archive)


def _extract(archive, target):
    import zipfile

    environment = _Window(archive, _environment_end(archive))
    try:
        _extract_from(archive, zipfile.ZipFile(environment), target)
    finally:
        environment.close()


def _extract_from(archive, archive_zip, target):
    import shutil
    import tempfile

    with archive_zip:
        all_members = archive_zip.infolist()
        members = [info for info in all_members if info.filename.startswith(_DEPS) and info.filename != _DEPS]
        # Every name and size is checked before anything is written: a tampered archive leaves nothing behind.
        try:
            _check_names(archive, all_members)
            _check_sizes(archive, all_members, [info for info in members if not info.is_dir()])
        except _Refused as refusal:
            _fail(str(refusal))
        work = tempfile.mkdtemp(prefix=".%s.tmp-" % os.path.basename(target), dir=os.path.dirname(target))
        try:
            files = []
            links = []
            for info in members:
                destination = os.path.join(work, info.filename[len(_DEPS):])
                try:
                    os.makedirs(destination if info.is_dir() else os.path.dirname(destination), exist_ok=True)
                except OSError as error:  # a name too long, a file where a directory should be
                    _fail("%s: cannot extract %r: %s" % (archive, info.filename, error))
                if info.is_dir():
                    continue
                if _is_link(info):
                    links.append((info, destination))
                else:
                    files.append(info)
            # Files first: no symlink exists yet that a write could follow.
            _extract_files(archive, work, files)
            _make_links(archive, archive_zip, work, links)
            # rename() of a directory is atomic: the target either does not exist or is complete.
            try:
                os.rename(work, target)
                _verbose("extracted %s into %s" % (archive, target))
            except OSError:
                if not os.path.isdir(target):
                    raise
                _verbose("another process extracted %s first; using %s" % (archive, target))
        finally:
            if os.path.isdir(work):
                shutil.rmtree(work, ignore_errors=True)


def _make_links(archive, archive_zip, work, links):
    """Creates the archive's symlinks, then refuses the archive if any of them resolves outside `work`.

    The rule: once every link exists, os.path.realpath of each (resolved through the others, as the kernel does)
    must stay inside the real extraction directory. Checking each link's text alone cannot be trusted: every step of
    `l1 -> .`, `l2 -> l1/..` looks inside, yet l2 resolves to the directory above. Checking links one by one as they
    are created is not enough either: a later link changes where an earlier one resolves (`a -> b/..` is inside
    until `b -> .` exists). With all links in place nothing changes any more, and _check_names has refused entries
    beneath a link, so no file was written through one. Absolute targets are refused outright: they would point
    elsewhere on every node."""
    try:
        for info, destination in links:
            target = archive_zip.read(info).decode("utf-8")
            if os.path.isabs(target) or "\0" in target:
                raise _refuse(archive, info, "symlink to %r points outside the extraction directory" % target)
            os.symlink(target, destination)
        root = os.path.realpath(work)
        for info, destination in links:
            resolved = os.path.realpath(destination)
            if resolved != root and not resolved.startswith(root + os.sep):
                raise _refuse(archive, info, "symlink to %r resolves outside the extraction directory"
                              % os.readlink(destination))
    except _Refused as refusal:
        _fail(str(refusal))
    except Exception as error:  # a damaged link member (zipfile.BadZipFile), undecodable text, an OSError
        _fail("%s: cannot extract: %s" % (archive, error))


def _cpu_count():
    try:
        return len(os.sched_getaffinity(0))  # what a container's CPU set allows, not the host's cores
    except AttributeError:
        return os.cpu_count() or 1


def _extract_files(archive, work, files):
    import threading

    # Interleaved slices balance large and small files across threads; one thread per core, capped.
    threads = min(8, _cpu_count()) if len(files) >= 64 else 1
    stop = threading.Event()
    try:
        if threads == 1:
            _write_members(archive, work, files, stop)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=threads) as pool:
            slices = [pool.submit(_write_members, archive, work, files[i::threads], stop) for i in range(threads)]
            for done in slices:
                done.result()
    except _Refused as refusal:
        _fail(str(refusal))
    except Exception as error:  # OSError, zlib.error, a damaged entry: one line, and the caller removes `work`
        _fail("%s: cannot extract: %s" % (archive, error))


def _deps_directory(archive, pex_hash):
    if os.path.isdir(archive):
        return os.path.join(archive, _DEPS)
    root = _pex_root()
    target = os.path.join(root, "deps", pex_hash)
    if os.path.isdir(target):
        return target  # fast path: complete by construction (see rename above)
    parent = _writable_parent(os.path.dirname(target))
    if parent is None:
        import tempfile

        fallback = os.path.join(tempfile.gettempdir(), "cluster-pack-pex-%d" % os.getuid(), "deps")
        _verbose("%s is not writable; extracting under %s" % (root, fallback))
        target = os.path.join(fallback, pex_hash)
        if os.path.isdir(target):
            return target
        parent = _writable_parent(fallback)
        if parent is None:
            _fail("%s: cannot extract: neither %s nor %s is writable (set PEX_ROOT)" % (archive, root, fallback))
    # A lock makes concurrent first runs wait for one extraction instead of all extracting; the rename keeps
    # them correct where flock is not honoured (some network filesystems).
    lock_file = open(target + ".lock", "a")
    try:
        try:
            import fcntl

            fcntl.flock(lock_file, fcntl.LOCK_EX)
        except (ImportError, OSError):
            pass
        if not os.path.isdir(target):
            _extract(archive, target)
    finally:
        lock_file.close()
    return target


def _stdlib_entries():
    stdlib = getattr(sys, "_stdlib_dir", None) or os.path.dirname(os.__file__)
    zipped = "python%d%d.zip" % sys.version_info[:2]
    kept = []
    for entry in sys.path:
        if entry.endswith(zipped) or entry == stdlib or (
            entry.startswith(stdlib + os.sep) and "-packages" not in entry
        ):
            kept.append(entry)
    return kept


def _same_path(a, b):
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def _set_sys_path(deps, inherit_path, first, strip_user_site):
    import site

    stdlib = _stdlib_entries()
    archive_entry = sys.path[0] if sys.path else None
    # The deps may already be on the path (PYTHONPATH=pyenv/.deps): they are ours, never the host's.
    host = [e for e in sys.path if e not in stdlib and e != archive_entry and not _same_path(e, deps)]
    if strip_user_site:
        user_site = getattr(site, "USER_SITE", None)
        host = [e for e in host if e != user_site]
    before = list(sys.path)
    site.addsitedir(deps)  # our .pth files (namespace packages, setuptools) are honoured, as pip would
    ours = [deps] + [e for e in sys.path if e not in before and not _same_path(e, deps)]
    if inherit_path == "false":
        path = stdlib + ours
    elif inherit_path == "prefer":
        path = stdlib + host + ours
    else:
        path = stdlib + ours + host
    sys.path[:] = ([first] if first is not None else []) + path
    _verbose("inherit_path=%s sys.path=%r" % (inherit_path, sys.path))


def _fresh_main(file=None):
    import types

    main = types.ModuleType("__main__")
    main.__builtins__ = __builtins__
    if file is not None:
        main.__file__ = file
    sys.modules["__main__"] = main
    return main.__dict__


def _run_module(module, alter_argv):
    import runpy

    _fresh_main()
    runner = getattr(runpy, "_run_module_as_main", None)
    if runner is not None:
        # What `python -m` itself calls: the code runs in the real __main__ module, argv[0] becomes its path.
        runner(module, alter_argv)
    else:
        runpy.run_module(module, run_name="__main__", alter_sys=alter_argv)


def _run_source(source, filename, file=None):
    namespace = _fresh_main(file)
    exec(compile(source, filename, "exec"), namespace)


def _run_entry_point(entry_point):
    module, _, function = entry_point.partition(":")
    if not function:
        _run_module(module, False)
        return
    import importlib

    target = importlib.import_module(module)
    for attribute in function.split("."):
        target = getattr(target, attribute)
    sys.exit(target())


def _console_scripts(deps):
    """name -> `module:function` of every console and GUI script the packed distributions declare."""
    import configparser

    scripts = {}
    for entry in sorted(os.listdir(deps)):
        path = os.path.join(deps, entry, "entry_points.txt")
        if not entry.endswith(".dist-info") or not os.path.isfile(path):
            continue
        parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
        parser.optionxform = str  # script names are case-sensitive
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error:
            continue
        for group in ("console_scripts", "gui_scripts"):
            if parser.has_section(group):
                for name, value in parser.items(group):
                    scripts.setdefault(name, value.split("[")[0].strip())
    return scripts


def _script_entry_point(archive, deps, name):
    # pex's PEX_SCRIPT: run a console script of the packed distributions, as if installed on PATH.
    scripts = _console_scripts(deps)
    if name not in scripts:
        known = ", ".join(sorted(scripts)) or "none"
        _fail("%s: PEX_SCRIPT=%s is not a console script of this archive (it has: %s)" % (archive, name, known))
    return scripts[name]


def _apply_option(flag, value):
    if flag == "u":
        import io

        # As `python -u`: the binary layer unbuffered; children inherit it through the environment.
        os.environ["PYTHONUNBUFFERED"] = "1"
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            raw = io.FileIO(stream.fileno(), "w", closefd=False)
            setattr(sys, name, io.TextIOWrapper(raw, encoding=stream.encoding, errors=stream.errors,
                                                write_through=True))
    elif flag == "B":
        sys.dont_write_bytecode = True
        os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    elif flag == "W":
        import warnings

        sys.warnoptions.append(value)
        getattr(warnings, "_processoptions", lambda options: None)([value])
    # -E -I -s -S -O -b -d -q -v -x -X: settled at interpreter start; accepted so callers need no special case
    # (-s and -I also drop the user site below).


_OPTIONS_WITH_VALUE = "WX"
_OPTIONS = "bBdEiIOqsSuvx"


def _parse_interpreter_args(args):
    """Splits `python`-style arguments: leading options, then what to run and its arguments."""
    flags = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "-" or not arg.startswith("-") or arg == "--":
            if arg == "--":
                index += 1
            break
        if arg.startswith("--"):
            index += 1  # --version and friends are not meaningful here; tolerated
            continue
        position = 1
        while position < len(arg):
            flag = arg[position]
            if flag in "cm":
                rest = arg[position + 1:]
                if rest:
                    return flags, flag, rest, args[index + 1:]
                if index + 1 >= len(args):
                    _fail("Argument expected for the -%s option" % flag)
                return flags, flag, args[index + 1], args[index + 2:]
            if flag in _OPTIONS_WITH_VALUE:
                value = arg[position + 1:] or (args[index + 1] if index + 1 < len(args) else "")
                if not arg[position + 1:]:
                    index += 1
                flags.append((flag, value))
                break
            if flag not in _OPTIONS:
                _fail("Unknown option: -%s" % flag)
            flags.append((flag, None))
            position += 1
        index += 1
    if index < len(args):
        return flags, "script", args[index], args[index + 1:]
    return flags, None, None, []


def main():
    archive = _archive_path()
    os.environ["PEX"] = archive
    try:
        import json

        pex_info = json.loads(_read_member(archive, "PEX-INFO").decode("utf-8"))
    except Exception as error:
        _fail("%s: cannot read PEX-INFO (%s)" % (archive, error))
    deps = _deps_directory(archive, pex_info["pex_hash"])
    inherit_path = os.environ.get("PEX_INHERIT_PATH") or pex_info.get("inherit_path") or "fallback"
    if inherit_path not in ("false", "fallback", "prefer"):
        _fail("%s: inherit_path must be false, fallback or prefer, not %r" % (archive, inherit_path))
    args = sys.argv[1:]
    entry_point = os.environ.get("PEX_MODULE") or pex_info.get("entry_point")
    force_interpreter = os.environ.get("PEX_INTERPRETER", "") not in ("", "0")
    script = os.environ.get("PEX_SCRIPT")
    if script and not force_interpreter:
        entry_point = _script_entry_point(archive, deps, script)
        _set_sys_path(deps, inherit_path, None, False)
        sys.argv[0] = script
        _run_entry_point(entry_point)
        return
    if entry_point and not force_interpreter:
        _set_sys_path(deps, inherit_path, None, False)
        sys.argv[0] = archive
        _run_entry_point(entry_point)
        return
    flags, mode, target, rest = _parse_interpreter_args(args)
    names = [flag for flag, _ in flags]
    strip_user_site = "s" in names or "I" in names
    if mode == "m":
        first = os.getcwd()
    elif mode == "script" and target != "-":
        first = os.path.dirname(os.path.realpath(target))
    else:
        first = ""
    _set_sys_path(deps, inherit_path, first, strip_user_site)
    for flag, value in flags:
        _apply_option(flag, value)
    if mode == "m":
        sys.argv[:] = ["-m"] + rest
        _run_module(target, True)
    elif mode == "c":
        sys.argv[:] = ["-c"] + rest
        _run_source(target, "<string>")
    elif mode == "script" and target != "-":
        sys.argv[:] = [target] + rest
        if os.path.isdir(target) or not target.endswith(".py") and _is_zip(target):
            import runpy

            runpy.run_path(target, run_name="__main__")
            return
        try:
            with open(target, "rb") as handle:
                source = handle.read()
        except OSError as error:
            sys.stderr.write("%s: can't open file %r: [Errno %d] %s\n"
                             % (sys.executable, target, error.errno, error.strerror))
            sys.exit(2)
        _run_source(source, target, target)
    elif mode == "script" or not sys.stdin.isatty():
        # `-`, or no arguments with a pipe on stdin: python reads the program from stdin.
        sys.argv[:] = ["-"] + rest if mode else [""]
        _run_source(sys.stdin.read(), "<stdin>", "<stdin>")
    else:
        import code

        sys.argv[:] = [""]
        code.interact(local=_fresh_main())


def _is_zip(path):
    import zipfile

    return zipfile.is_zipfile(path)


if __name__ == "__main__":
    main()
