import pytest

from feed import selectors, services


@pytest.mark.django_db
def test_post_follow_and_home_timeline_round_trip(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    services.follow_create(follower=alice, followee_id=bob.id)
    post = services.post_create(
        author=bob, body="hello @alice see https://example.org/@x"
    )
    reply = services.post_create(author=alice, body="hi", parent_id=post.id)
    page = selectors.timeline_home(viewer=alice)
    assert [p.id for p in page.items] == [reply.id, post.id]
    post.refresh_from_db()
    assert post.reply_count == 1
    assert alice.notifications.filter(kind="mention").count() == 1
    assert bob.notifications.filter(kind="reply").count() == 1
    assert selectors.posts_search(viewer=alice, query="hello")[0].id == post.id
