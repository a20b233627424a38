"""Real webcam footage for the benches: a public clip, played as a looped camera file.

The synthetic camera flatters the encoder: a real table under a webcam (texture, a hand moving, sensor noise,
auto exposure) costs about three times its bitrate. The clip is ``box.mp4`` from OpenCV's documentation
(the real-time pose estimation tutorial): a handheld 640x480 webcam, 30 fps, 15 s of a hand moving a printed
box over a table. Debian ships it gzipped in the ``opencv-doc`` package; ``scripts/bench_clip.sh`` takes only
that file out of the package (no 270 MB install). It is not committed here: it is OpenCV's, and 1.9 MB.

CI has no clip: ``--quick`` runs play a stand-in made here from the synthetic camera through the same
camera-file source, so the code path is exercised; its figures mean nothing and say so.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
from fractions import Fraction
from pathlib import Path

from _result import BENCH

CLIP_NAME = "box.mp4"
DEBIAN_CLIP = Path("/usr/share/doc/opencv-doc/opencv4/html/box.mp4.gz")  # apt-get install opencv-doc
CACHED_CLIP = BENCH / "out" / CLIP_NAME  # where scripts/bench_clip.sh puts it
CLIP_SOURCE = "box.mp4, OpenCV documentation (Debian package opencv-doc): handheld webcam, 640x480, 30 fps, 15 s"
FETCH_HINT = "bash scripts/bench_clip.sh (takes box.mp4 out of Debian's opencv-doc package), or --clip FILE"


def real_clip(explicit: Path | None = None) -> Path | None:
    """The real clip: the one asked for, else the one fetched before, else Debian's installed copy (unzipped
    into bench/out once). None when there is none on this PC."""
    if explicit is not None:
        if not explicit.is_file():
            raise SystemExit(f"clip not found: {explicit}")
        return explicit
    if CACHED_CLIP.is_file():
        return CACHED_CLIP
    for packed in (DEBIAN_CLIP, DEBIAN_CLIP.with_suffix("")):
        if packed.is_file():
            CACHED_CLIP.parent.mkdir(parents=True, exist_ok=True)
            opener = gzip.open if packed.suffix == ".gz" else open
            with opener(packed, "rb") as src, open(CACHED_CLIP, "wb") as dst:  # type: ignore[operator]
                shutil.copyfileobj(src, dst)
            return CACHED_CLIP
    return None


def stand_in_clip(folder: Path, size: tuple[int, int] = (320, 240), frames: int = 45) -> Path:
    """A short clip of the noisy synthetic camera, written as a camera file would be: for quick runs only."""
    import av

    from packdesk.devices.camera import SyntheticSource

    path = folder / "stand-in.mp4"
    source = SyntheticSource(size, noise=3.0)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30, options={"preset": "ultrafast", "threads": "1"})
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.codec_context.time_base = Fraction(1, 30)
        for i in range(frames):
            image = source.read()
            assert image is not None
            vf = av.VideoFrame.from_ndarray(image, format="bgr24")
            vf.pts = i
            for packet in stream.encode(vf):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
