"""The local data store: a folder of (Geo)Parquet layers plus a manifest.

Layout (``ATLAS_DATA_DIR``, default ``<project>/data/store``)::

    manifest.json              one entry per layer: rows, vintage, source, nature...
    cache/                     downloaded registry packages (wheel, tarball)
    layers/<name>.<version>.parquet   one file per layer version (GeoParquet when it has geometry)

Versions and the switch.  Every write of a layer creates a new file,
``layers/<name>.<UTC time>-<random>.parquet``, never overwriting a file in use; the manifest
entry names the current file (``fichier``) and the one before it (``fichier_precedent``).  The
manifest is the single switch point: it is rewritten to a temporary file and ``os.replace``-d, so
an import of several layers (e.g. the data.caf.fr coverage by commune and by département) becomes
visible to every process, every replica on a shared path, all at once, without restart.  A reader
that loaded the previous manifest still finds the files it names: the previous version of each layer
is kept; older ones are deleted at a later write once ten minutes old (``ATLAS_STORE_GARDE_SECONDES``).  ``Store.instantane()`` pins one manifest, for a
reader that needs several layers of one version.  A store written before versions (``<name>.parquet``)
is read as is; its files become « previous » at the first write.

Concurrent writers (several imports at once, from threads or processes) never lose
each other's manifest entries: the read-modify-write of the manifest, and the moves
of the layer files it describes, happen under an exclusive ``fcntl.flock`` on
``.verrou`` in the store folder (``Store.lock()``).  The slow part (writing the
Parquet files) stays outside the lock.  Readers take no lock: they always see a
whole manifest (atomic rename).  A failed import never leaves a half-written layer behind.

This module imports no heavy library at import time so that ``python -m data
status`` and an up-to-date ``build-reference`` stay fast.
"""
from __future__ import annotations

import fcntl
import json
import os
import secrets
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from planning.formats import DEMO_LABEL  # noqa: F401  (one wording for every layer; a light import)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Nature of a layer, shown on every screen that uses it.
NATURE_REEL = "réel"            # reference data from pinned registry packages
NATURE_IMPORTE = "importé"      # official file imported by the user
NATURE_FICTIF = "fictif"        # demo data from the seeded generator
NATURE_ESTIME = "estimé"        # computed estimate (e.g. children under 3 from population)

LOCK_NAME = ".verrou"
# a superseded version older than the previous one is deleted only once it is this old (seconds): a reader
# that loaded an older manifest a moment ago still finds its files
GARDE_SECONDES = float(os.environ.get("ATLAS_STORE_GARDE_SECONDES", "600"))
_held = threading.local()        # store folders whose lock this thread holds (the lock is re-entrant)


def data_dir() -> Path:
    """Folder of the store (``ATLAS_DATA_DIR`` or ``<project>/data/store``)."""
    env = os.environ.get("ATLAS_DATA_DIR")
    return Path(env).expanduser().resolve() if env else PROJECT_ROOT / "data" / "store"


@dataclass
class LayerInfo:
    name: str
    rows: int
    nature: str
    vintage: str
    source: str
    version: str = ""
    label: str = ""
    updated_at: str = ""
    extra: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {
            "rows": self.rows,
            "nature": self.nature,
            "vintage": self.vintage,
            "source": self.source,
            "version": self.version,
            "label": self.label,
            "updated_at": self.updated_at,
        }
        if self.extra:
            d["extra"] = self.extra
        return d

    @classmethod
    def from_dict(cls, name: str, d: dict[str, Any]) -> "LayerInfo":
        return cls(
            name=name,
            rows=int(d.get("rows", 0)),
            nature=d.get("nature", ""),
            vintage=d.get("vintage", ""),
            source=d.get("source", ""),
            version=d.get("version", ""),
            label=d.get("label", ""),
            updated_at=d.get("updated_at", ""),
            extra=d.get("extra"),
        )


class Store:
    """Access to the layers of one data folder."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root is not None else data_dir()

    # -- paths -------------------------------------------------------------
    @property
    def layers_dir(self) -> Path:
        return self.root / "layers"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def layer_path(self, name: str) -> Path:
        """The file of the layer's current version (``<name>.parquet`` for a store written before versions)."""
        entry = self.manifest()["layers"].get(name) or {}
        return self.layers_dir / (entry.get("fichier") or f"{name}.parquet")

    def instantane(self) -> "Store":
        """A read-only view pinned to the manifest as it is now: layers read through it all belong to
        one version of the store, even if an import switches versions in between."""
        pinned = Store(self.root)
        m = self.manifest()
        pinned.manifest = lambda: m   # type: ignore[method-assign]
        return pinned

    # -- manifest ----------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        if not self.manifest_path.exists():
            return {"layers": {}}
        with open(self.manifest_path, encoding="utf-8") as fh:
            m = json.load(fh)
        m.setdefault("layers", {})
        return m

    def layers(self) -> dict[str, LayerInfo]:
        return {k: LayerInfo.from_dict(k, v) for k, v in self.manifest()["layers"].items()}

    def info(self, name: str) -> LayerInfo | None:
        return self.layers().get(name)

    def has(self, name: str) -> bool:
        return name in self.manifest()["layers"] and self.layer_path(name).exists()

    @contextmanager
    def lock(self):
        """Exclusive lock on the store folder for a read-modify-write of the manifest.

        Re-entrant within one thread; excludes other threads and other processes (each
        acquisition opens its own file description, which is what ``flock`` locks).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        key = str(self.root.resolve())
        held: dict[str, int] = getattr(_held, "roots", None) or {}
        _held.roots = held
        if held.get(key):
            held[key] += 1
            try:
                yield
            finally:
                held[key] -= 1
            return
        fd = os.open(self.root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o664)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held[key] = 1
            try:
                yield
            finally:
                held[key] = 0
        finally:
            os.close(fd)  # releases the lock

    def _write_manifest(self, manifest: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".json", dir=self.root)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, ensure_ascii=False, indent=2, sort_keys=True)
        os.replace(tmp, self.manifest_path)

    def set_meta(self, key: str, value: Any) -> None:
        with self.lock():
            m = self.manifest()
            m[key] = value
            self._write_manifest(m)

    # -- layers ------------------------------------------------------------
    def read(self, name: str, columns: list[str] | None = None):
        """Read a layer: a GeoDataFrame if it was written with geometry."""
        path = self.layer_path(name)
        if not path.exists():
            raise FileNotFoundError(
                f"La couche « {name} » est absente du magasin de données ({self.root}). "
                "Lancez `python -m data build-reference` (ou la commande d'installation du README)."
            )
        import pyarrow.parquet as pq

        meta = pq.read_schema(path).metadata or {}
        geo_cols = set(json.loads(meta[b"geo"]).get("columns", {})) if b"geo" in meta else set()
        if geo_cols and (columns is None or geo_cols & set(columns)):
            import geopandas as gpd

            return gpd.read_parquet(path, columns=columns)
        import pandas as pd

        return pd.read_parquet(path, columns=columns)

    def write_layers(self, layers: dict[str, tuple[Any, LayerInfo]]) -> None:
        """Write several layers and their manifest entries as one step.

        Every frame is written to a temporary file first; only when all are
        written are they moved into place and the manifest updated.
        """
        self.layers_dir.mkdir(parents=True, exist_ok=True)
        tmp_paths: dict[str, str] = {}
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        versions = {name: f"{name}.{stamp}-{secrets.token_hex(3)}.parquet" for name in layers}
        try:
            for name, (frame, _info) in layers.items():
                fd, tmp = tempfile.mkstemp(prefix=f".{name}-", suffix=".parquet", dir=self.layers_dir)
                os.close(fd)
                tmp_paths[name] = tmp
                frame.to_parquet(tmp, index=False)
        except BaseException:
            for tmp in tmp_paths.values():
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            raise
        try:
            with self.lock():
                manifest = self.manifest()
                now = datetime.now(timezone.utc).isoformat(timespec="seconds")
                for name, (frame, info) in layers.items():
                    os.replace(tmp_paths[name], self.layers_dir / versions[name])
                    before = manifest["layers"].get(name) or {}
                    info.rows = int(len(frame))
                    info.updated_at = now
                    manifest["layers"][name] = {**info.to_dict(), "fichier": versions[name],
                                                "fichier_precedent": before.get("fichier") or f"{name}.parquet"}
                self._write_manifest(manifest)   # the switch: every layer of this write at once
                self._purge(manifest, layers)
        finally:
            for tmp in tmp_paths.values():   # only left over if the lock or a move failed
                if os.path.exists(tmp):
                    try:
                        os.unlink(tmp)
                    except OSError:
                        pass

    def _purge(self, manifest: dict[str, Any], names) -> None:
        """Delete the versions of ``names`` older than the current and the previous one, once they are
        ``GARDE_SECONDES`` old (under the lock)."""
        import time

        limite = time.time() - GARDE_SECONDES
        for name in names:
            entry = manifest["layers"].get(name) or {}
            keep = {entry.get("fichier"), entry.get("fichier_precedent")}
            for p in [self.layers_dir / f"{name}.parquet", *self.layers_dir.glob(f"{name}.*.parquet")]:
                try:
                    if p.name not in keep and p.stat().st_mtime <= limite:
                        p.unlink()
                except FileNotFoundError:
                    pass

    def write_layer(self, name: str, frame: Any, info: LayerInfo) -> None:
        self.write_layers({name: (frame, info)})

    def delete_layer(self, name: str) -> None:
        with self.lock():
            manifest = self.manifest()
            entry = manifest["layers"].pop(name, None) or {}
            self._write_manifest(manifest)
            for f in {entry.get("fichier"), entry.get("fichier_precedent"), f"{name}.parquet"} - {None}:
                try:
                    (self.layers_dir / f).unlink()
                except FileNotFoundError:
                    pass

    def copie(self, dest: Path | str) -> "Store":
        """A private store in ``dest`` holding this one's current layers (hard links when the file system
        allows: a layer file is never modified once written, only superseded) and its manifest, as of one
        moment.  For tests, benchmarks and throwaway servers."""
        import shutil

        dest = Path(dest)
        (dest / "layers").mkdir(parents=True, exist_ok=True)
        m = self.manifest()
        for name in m["layers"]:
            src = self.layers_dir / (m["layers"][name].get("fichier") or f"{name}.parquet")
            if not src.exists():
                continue
            try:
                os.link(src, dest / "layers" / src.name)
            except OSError:
                shutil.copy2(src, dest / "layers" / src.name)
        Store(dest)._write_manifest(m)
        return Store(dest)

    def status(self) -> dict[str, Any]:
        """What the store holds, as printed by ``python -m data status --json``."""
        m = self.manifest()
        out: dict[str, Any] = {"data_dir": str(self.root), "layers": {}}
        for k, v in sorted(m["layers"].items()):
            entry = dict(v)
            entry["present"] = self.layer_path(k).exists()
            out["layers"][k] = entry
        for key in ("reference", "facts"):
            if key in m:
                out[key] = m[key]
        return out
