"""A zip archive produced as a stream of bytes, entry by entry.

`zipfile` writes to any object with `write` and `tell`; without `seek` it uses data
descriptors, so nothing has to be rewritten and each entry's bytes can leave as soon as
they are compressed.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator


class ByteSink:
    """A write-only file whose bytes are taken out as they come (zip and Parquet writers)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def write(self, data: bytes, /) -> int:
        self._chunks.append(bytes(data))
        self._position += len(data)
        return len(data)

    @property
    def closed(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


class ZipStream:
    def __init__(self) -> None:
        self._sink = ByteSink()
        self._zip = zipfile.ZipFile(self._sink, mode="w", compression=zipfile.ZIP_DEFLATED)

    def entry(self, name: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Write one entry from `chunks`, yielding the archive's bytes as they are produced."""
        with self._zip.open(name, "w", force_zip64=True) as handle:
            for chunk in chunks:
                handle.write(chunk)
                data = self._sink.take()
                if data:
                    yield data
        data = self._sink.take()
        if data:
            yield data

    def close(self) -> Iterator[bytes]:
        self._zip.close()
        yield self._sink.take()
