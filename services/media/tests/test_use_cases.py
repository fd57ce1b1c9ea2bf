"""The media use cases against in-memory fakes of the store, the bucket and Pillow."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from returns_contracts.examples import customer_answered
from returns_media.domain.errors import (
    BrokenImage,
    NotAuthorized,
    NotFound,
    PhotoKept,
    TooLarge,
    TooManyPhotos,
)
from returns_media.domain.model import DraftRef, Slot
from returns_media.service.use_cases import ReceivedFile, merchant_prefix

from .fakes import World
from .submitted import return_with_photos

SHOP = DraftRef("shop", "draft-1")


@pytest.fixture
def world() -> World:
    return World()


def test_the_token_must_name_the_draft_of_the_path(world: World) -> None:
    token = world.token("shop", "draft-1")

    assert world.service.authorize(f"Bearer {token}", "shop", "draft-1") == SHOP
    for header in (None, "", token, f"Basic {token}", f"Bearer {token}x"):
        with pytest.raises(NotAuthorized):
            world.service.authorize(header, "shop", "draft-1")
    with pytest.raises(NotAuthorized):
        world.service.authorize(f"Bearer {token}", "shop", "draft-2")
    with pytest.raises(NotAuthorized):
        world.service.authorize(f"Bearer {token}", "other-shop", "draft-1")
    world.clock.advance(hours=2)
    with pytest.raises(NotAuthorized):
        world.service.authorize(f"Bearer {token}", "shop", "draft-1")


async def test_an_upload_stores_both_images_under_the_merchant_s_prefix(world: World) -> None:
    photo = await world.upload(SHOP)

    assert set(world.objects.objects) == {photo.full_key, photo.thumbnail_key}
    assert photo.full_key.startswith(merchant_prefix("shop"))
    assert photo.photo_id not in photo.full_key, "object keys do not reveal the photo id"
    assert photo.size_bytes == len(world.objects.objects[photo.full_key])
    assert photo.original_sha256 == "sha-of-original"
    assert len(photo.photo_id) >= 32


@pytest.mark.parametrize("error", [BrokenImage("broken"), ConnectionError("S3 went away")])
async def test_a_failed_upload_leaves_no_object_and_no_slot(world: World, error: Exception) -> None:
    world.normaliser.error = error if isinstance(error, BrokenImage) else None
    world.objects.fail_puts = not isinstance(error, BrokenImage)

    with pytest.raises(type(error)):
        await world.upload(SHOP)

    assert world.objects.objects == {}
    assert world.store.photos == {}
    assert world.store.place_count() == 0


async def test_a_body_refused_while_streaming_leaves_no_slot(world: World) -> None:
    async def too_big() -> ReceivedFile:
        raise TooLarge("too large")

    with pytest.raises(TooLarge):
        await world.service.upload(SHOP, "1", too_big)

    assert world.store.place_count() == 0


async def test_a_link_opens_its_variant_until_it_expires(world: World) -> None:
    photo = await world.upload(SHOP)
    view = (await world.service.lookup("shop", [photo.photo_id]))[0]
    query = parse_qs(urlsplit(view.links.url).query)
    exp, sig = query["exp"][0], query["sig"][0]

    data, _ = await world.service.open(photo.photo_id, "full", exp, sig)
    assert data == world.objects.objects[photo.full_key]
    with pytest.raises(NotFound):
        await world.service.open(photo.photo_id, "thumb", exp, sig)
    world.clock.advance(days=30)
    with pytest.raises(NotFound):
        await world.service.open(photo.photo_id, "full", exp, sig)


async def test_lookup_shows_only_the_merchant_s_photos_in_the_order_asked(world: World) -> None:
    first = await world.upload(SHOP)
    second = await world.upload(SHOP, line_id="2")
    foreign = await world.upload(DraftRef("other-shop", "d"))

    views = await world.service.lookup(
        "shop", [second.photo_id, foreign.photo_id, "unknown", first.photo_id, second.photo_id]
    )

    assert [view.photo.photo_id for view in views] == [second.photo_id, first.photo_id]


async def test_a_line_takes_five_photos_and_a_removed_one_frees_its_place(world: World) -> None:
    photos = [await world.upload(SHOP) for _ in range(5)]
    with pytest.raises(TooManyPhotos):
        await world.upload(SHOP)
    await world.upload(SHOP, line_id="2")

    await world.service.remove(SHOP, photos[2].photo_id)

    await world.upload(SHOP)
    assert world.store.place_count() == 6


async def test_an_upload_in_progress_keeps_its_draft_from_the_clean_up(world: World) -> None:
    stale = await world.upload(SHOP)
    world.clock.advance(hours=49)
    fresh = Slot("in-flight", "1", "k/full", "k/thumb", world.clock())
    assert await world.store.claim_place(SHOP, fresh, 5)

    assert await world.service.clean_up_abandoned() == 1

    assert stale.photo_id not in world.store.photos
    assert SHOP.key in world.store.drafts
    assert world.store.place_count() == 1


async def test_submission_keeps_named_photos_once_and_closes_the_draft(world: World) -> None:
    photo = await world.upload(SHOP)
    event = return_with_photos("shop", [photo.photo_id, "unknown"])

    await world.service.record_submitted(event)
    await world.service.record_submitted(event)

    assert world.store.photos[photo.photo_id].kept_for_return_id == event.payload.return_id
    assert world.store.drafts[SHOP.key].submitted_return_id == event.payload.return_id
    with pytest.raises(PhotoKept):
        await world.service.remove(SHOP, photo.photo_id)


async def test_the_photos_of_an_answer_are_kept_like_a_returns(world: World) -> None:
    """Issue 15: a customer's answer names its new photos; clean-up must not delete them."""
    answer_draft = DraftRef("shop", "answer-q-1")
    photo = await world.upload(answer_draft, line_id="answer")
    foreign = await world.upload(DraftRef("other-shop", "answer-q-2"), line_id="answer")
    answered = customer_answered(merchant_id="shop")
    event = answered.model_copy(
        update={
            "payload": answered.payload.model_copy(
                update={"media_ids": [photo.photo_id, foreign.photo_id]}
            )
        }
    )

    await world.service.record_answered(event)
    assert world.store.drafts[answer_draft.key].submitted_return_id == event.payload.return_id
    world.clock.advance(hours=49)
    await world.service.clean_up_abandoned()

    assert world.store.photos[photo.photo_id].kept_for_return_id == event.payload.return_id
    assert foreign.photo_id not in world.store.photos  # another merchant's: not kept


async def test_clean_up_deletes_abandoned_photos_and_orphans_but_keeps_submitted_ones(
    world: World,
) -> None:
    abandoned = await world.upload(SHOP)
    submitted_draft = DraftRef("shop", "draft-2")
    kept = await world.upload(submitted_draft)
    unused = await world.upload(submitted_draft, line_id="2")
    await world.service.record_submitted(return_with_photos("shop", [kept.photo_id]))
    # An upload that crashed between S3 and MongoDB: its place and objects, but no photo.
    orphan = Slot("orphan", "3", "orphan/full", "orphan/thumb", world.clock())
    assert await world.store.claim_place(SHOP, orphan, 5)
    world.objects.objects.update({"orphan/full": b"x", "orphan/thumb": b"x"})

    world.clock.advance(hours=47)
    assert await world.service.clean_up_abandoned() == 0
    world.clock.advance(hours=2)
    deleted = await world.service.clean_up_abandoned()

    assert deleted == 2
    assert set(world.store.photos) == {kept.photo_id}
    assert set(world.objects.objects) == {kept.full_key, kept.thumbnail_key}
    assert world.store.drafts == {}
    assert (
        abandoned.photo_id not in world.store.photos and unused.photo_id not in world.store.photos
    )


async def test_gdpr_erasure_removes_everything_of_the_merchant_only(world: World) -> None:
    await world.upload(SHOP)
    kept = await world.upload(DraftRef("shop", "draft-2"))
    await world.service.record_submitted(return_with_photos("shop", [kept.photo_id]))
    foreign = await world.upload(DraftRef("other-shop", "d"))
    world.objects.objects[merchant_prefix("shop") + "stray/full.jpg"] = b"x"

    assert await world.service.forget_merchant("shop") == 2

    assert set(world.store.photos) == {foreign.photo_id}
    assert set(world.objects.objects) == {foreign.full_key, foreign.thumbnail_key}
    assert [draft.ref.merchant_id for draft in world.store.drafts.values()] == ["other-shop"]
    assert [owner.merchant_id for owner, _ in world.store.places] == ["other-shop"]


async def test_the_customer_removes_only_photos_of_their_own_draft(world: World) -> None:
    photo = await world.upload(SHOP)

    with pytest.raises(NotFound):
        await world.service.remove(DraftRef("shop", "draft-2"), photo.photo_id)
    await world.service.remove(SHOP, photo.photo_id)

    assert world.objects.objects == {}
    assert world.store.place_count() == 0
