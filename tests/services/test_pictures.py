"""Product pictures: the SmartStore catalogue sync fetches each product's representative image once into the
picture folder (over real HTTP from the fake's CDN), fetches again only when the seller changes the picture (a
new URL), logs a picture it cannot have and goes on; a supervisor's own photo is copied in and wins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from packdesk.channels.http import RateLimiters
from packdesk.channels.naver import NaverChannel
from packdesk.core import models as m
from packdesk.core.db import Database
from packdesk.core.enums import ChannelKind
from packdesk.services.catalogue import sync_catalogue
from packdesk.services.pictures import PictureCache, PictureError, set_item_photo
from tests.fakes.naver import FakeNaver, product_png


@pytest.fixture
def naver() -> Iterator[FakeNaver]:
    with FakeNaver(rate_limit=None) as fake:
        yield fake


def sync(db: Database, fake: FakeNaver, cache: PictureCache, account_id: int) -> None:
    ch = NaverChannel(fake.client_id, fake.client_secret, base_url=fake.base_url, sleep=lambda s: None,
                      limiters=RateLimiters())
    try:
        assert sync_catalogue(db, account_id, ch, pictures=cache.fetch).complete
    finally:
        ch.close()


def account(db: Database) -> int:
    with db.session() as s:
        acc = m.ChannelAccount(kind=ChannelKind.NAVER, name="스토어", external_id="x")
        s.add(acc)
        s.flush()
        return acc.id


def urls(db: Database) -> dict[str, str]:
    with db.session() as s:
        return {sp.product_name: sp.image_url for sp in s.scalars(select(m.SalesProduct))}


def test_the_sync_fetches_each_picture_once_and_again_when_it_changes(db: Database, naver: FakeNaver,
                                                                       tmp_path: Path) -> None:
    mug = naver.add_product("머그컵", None)
    tee = naver.add_product("티셔츠", [{"optionName1": "S"}, {"optionName1": "M"}])
    cache, acc = PictureCache(tmp_path / "pictures"), account(db)
    sync(db, naver, cache, acc)
    got = urls(db)
    assert got["머그컵"] == naver.image_url(mug.origin_product_no) and got["티셔츠"] == naver.image_url(
        tee.origin_product_no)
    path = cache.path_for_url(got["머그컵"])
    assert path is not None and path.suffix == ".png" and path.read_bytes() == product_png(mug.origin_product_no)
    assert len(naver.image_requests) == 2  # the shirt's two options share one picture: fetched once

    sync(db, naver, cache, acc)  # nothing new: nothing fetched
    assert len(naver.image_requests) == 2

    new = naver.set_product_image(mug.origin_product_no, new=True)  # the seller uploaded another picture
    sync(db, naver, cache, acc)
    assert urls(db)["머그컵"] == new and len(naver.image_requests) == 3
    fresh = cache.path_for_url(new)
    assert fresh is not None and fresh.read_bytes() == product_png(mug.origin_product_no, 2)
    assert not list(tmp_path.glob("pictures/.part-*"))  # no half-written file left


def test_a_picture_that_cannot_be_had_is_logged_and_the_sync_goes_on(db: Database, naver: FakeNaver,
                                                                      tmp_path: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    gone = naver.add_product("단종 사진", None)
    naver.add_product("머그컵", None)
    naver.set_product_image(gone.origin_product_no, missing=True)
    cache, acc = PictureCache(tmp_path / "pictures"), account(db)
    sync(db, naver, cache, acc)  # completes (asserted in ``sync``)
    got = urls(db)
    assert cache.path_for_url(got["단종 사진"]) is None and cache.path_for_url(got["머그컵"]) is not None
    warning = next(r.getMessage() for r in expect_warnings.records if r.name == "packdesk.pictures")
    assert "127.0.0.1" in warning and "channel" in warning  # the host and why: no product data, no buyer
    naver.set_product_image(gone.origin_product_no, missing=False)
    sync(db, naver, cache, acc)  # tried again at the next sync
    assert cache.path_for_url(got["단종 사진"]) is not None


def test_a_reply_that_is_no_picture_is_not_kept(tmp_path: Path, expect_warnings) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from packdesk.channels.http import HttpClient

    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>login</html>", headers={"content-type": "image/png"})

    cache = PictureCache(tmp_path, lambda base: HttpClient(base, transport=httpx.MockTransport(html)))
    assert cache.fetch(["https://cdn.example/a.png"]) == 0 and cache.path_for_url("https://cdn.example/a.png") is None
    assert "picture_not_image" in expect_warnings.text


def test_a_supervisors_photo_is_copied_in_and_wins(db: Database, tmp_path: Path) -> None:
    cache = PictureCache(tmp_path / "pictures")
    photo = tmp_path / "내 사진.png"
    photo.write_bytes(product_png(7))
    name = cache.add_own(photo)
    photo.unlink()  # the copy is the cache's: the original may go
    assert cache.own_path(name) is not None and cache.picture_for(name, "https://cdn.example/x.png") == \
        cache.own_path(name)
    assert cache.own_path("../../etc/passwd") is None  # a name, never a path out of the folder
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    with pytest.raises(PictureError) as refused:
        cache.add_own(text)
    assert refused.value.code == "picture_not_image" and refused.value.params["file"] == "notes.png"
    with pytest.raises(PictureError) as unreadable:
        cache.add_own(tmp_path / "없음.png")
    assert unreadable.value.code == "picture_unreadable"
    with db.session() as s:
        item = m.Item(sku="MUG", name="머그컵")
        s.add(item)
        s.flush()
        assert set_item_photo(s, item.id, name) == "머그컵"
    with db.session() as s:
        assert s.scalars(select(m.Item.image_path)).one() == name
