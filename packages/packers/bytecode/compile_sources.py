# cluster-pack `--compile`: bytecode for an archive, made by the environment's own interpreter (standard library
# only). Reads a JSON list of source paths on stdin and a cache directory as argv[1]; writes the interpreter's cache
# tag (`cpython-311`) as a first JSON line, then one JSON line per source: the path of its .pyc in the cache, or
# null when the source does not compile (Python 2 test files, say).
# Each .pyc is keyed by the sha256 of its source and uses PEP 552's unchecked-hash invalidation: an extracted
# file's mtime never matters, and a later pack of the same source reuses it.
import hashlib
import json
import os
import py_compile
import sys
import tempfile


def compile_one(source, cache):
    try:
        with open(source, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None
    target = os.path.join(cache, digest[:2], digest + ".pyc")
    if os.path.exists(target):
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    descriptor, partial = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".partial")
    os.close(descriptor)
    try:
        py_compile.compile(
            source,
            cfile=partial,
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        os.replace(partial, target)  # concurrent packs may race; either copy is the same bytes
        return target
    except (py_compile.PyCompileError, SyntaxError, ValueError, UnicodeDecodeError):
        return None
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def compile_slice(arguments):
    sources, cache = arguments
    return [compile_one(source, cache) for source in sources]


def main():
    tag = sys.implementation.cache_tag
    cache = os.path.join(sys.argv[1], tag)
    sources = json.load(sys.stdin)
    workers = max(1, min(len(os.sched_getaffinity(0)), 8))
    slices = [sources[index::workers] for index in range(workers)]
    if workers == 1 or len(sources) < 256:
        results = compile_slice((sources, cache))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # fork: this script runs from `-c`, which a spawned worker could not import its functions from.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            done = list(pool.map(compile_slice, [(part, cache) for part in slices]))
        results = [None] * len(sources)
        for index, part in enumerate(done):
            results[index::workers] = part
    sys.stdout.write(json.dumps(tag) + "\n")
    for result in results:
        sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
