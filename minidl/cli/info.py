"""`minidl info`: version, backends, whether a GPU works, the BLAS in use, the data folder."""

import importlib.metadata
import importlib.util
import os
import platform
import shutil

import numpy as np


def add_parser(commands):
    commands.add_parser("info", help="version, backends, whether a GPU works, BLAS in use",
                        description="Print minidl's version, NumPy and its BLAS, CuPy and whether a GPU "
                                    "works, PyTorch if installed, and the data folder.")


def _version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def blas_info():
    """[(library, version, threads, api)] of the BLAS/OpenMP libraries NumPy has loaded (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [(pool.get("internal_api", "?"), pool.get("version") or "", pool.get("num_threads", "?"),
             pool.get("user_api", "?"), _owner(pool.get("filepath", ""))) for pool in threadpool_info()]


def _owner(filepath):
    """The package a shared library came with ("numpy.libs" -> "numpy"), or its file name."""
    folder = os.path.basename(os.path.dirname(filepath))
    return folder.removesuffix(".libs") if folder.endswith(".libs") else os.path.basename(filepath)


def run():
    """`minidl info`: what minidl runs on."""
    import minidl as mdl
    from minidl.data.download import data_home

    print(f"minidl     {mdl.__version__} ({os.path.dirname(mdl.__file__)})")
    print(f"python     {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"numpy      {np.__version__}")
    pools = blas_info()
    if pools:
        for library, version, threads, api, owner in pools:
            print(f"  {api:<8} {library} {version} (loaded by {owner}), {threads} threads".replace("  (", " ("))
    else:
        print(f"  blas     {_numpy_blas_name()}")
    cupy = next((f"{d} {_version(d)}" for d in ("cupy", "cupy-cuda12x", "cupy-cuda11x", "cupy-cuda13x")
                 if _version(d)), None)
    if cupy is None and importlib.util.find_spec("cupy") is not None:
        cupy = "cupy (version unknown)"
    print("cupy       " + (cupy or "not installed (pip install 'minidl[gpu]')"))
    available = mdl.cuda.is_available()
    gpu = "yes" if available else "no"
    if available:
        try:
            xp = mdl.backend("cuda").xp
            props = xp.cuda.runtime.getDeviceProperties(0)
            name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
            gpu = f"yes: {name}, {props['totalGlobalMem'] / 2**30:.0f} GiB (device 0 of {xp.cuda.runtime.getDeviceCount()})"
        except Exception as error:  # a name is a nicety; availability is what counts
            gpu = f"yes ({type(error).__name__} reading its name)"
    print(f"gpu works  {gpu}  (mdl.cuda.is_available())")
    torch = _version("torch")
    print(f"pytorch    {torch or 'not installed'}")
    for dist in ("scikit-learn", "matplotlib", "tqdm", "joblib"):
        print(f"{dist:<10} {_version(dist) or 'not installed'}")
    print(f"graphviz   {'dot found' if shutil.which('dot') else 'no dot (graphs are drawn with matplotlib)'}")
    source = "$MINIDL_DATA" if os.environ.get("MINIDL_DATA") else "cache folder; set MINIDL_DATA to change it"
    print(f"data       {data_home()} ({source})")
    return 0


def _numpy_blas_name():
    try:
        config = np.show_config(mode="dicts")
        return config["Build Dependencies"]["blas"]["name"]
    except Exception:
        return "unknown"
