"""A synthetic society: hidden viewpoints, posts with hidden quality, slant and
incivility, and the reaction model that turns them into likes and ratings.

SIMULATION — synthetic data. Nothing here is measured from people. The parameters
are fixed in one place (``ReactionModel``) so that a reader can see, and argue
with, every assumption; they were set before the rankers were compared and are not
tuned to make any ranker look good.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CAMP_LEFT, CAMP_MODERATE, CAMP_RIGHT = -1, 0, 1


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class ReactionModel:
    """How a user reacts to a post, as logits over hidden quantities.

    ``agree`` = viewer viewpoint × post slant (positive when they agree).
    """

    # Perceived helpfulness (what a rating reports).
    help_base: float = 0.2
    help_quality: float = 1.0
    help_incivility: float = -1.5
    help_agree: float = 1.5
    # Share of ratings that say "somewhat" (0.5) whatever the post.
    somewhat_share: float = 0.15
    # Likes: outrage (incivility × agreement) draws likes, quality only a little.
    like_base: float = -3.0
    like_quality: float = 0.4
    like_agree: float = 1.2
    like_outrage: float = 3.0
    # Raters mostly rate what they already agree with: selection ∝ exp(bias × agree).
    selection_bias: float = 3.0


@dataclass(frozen=True)
class Society:
    viewpoint: np.ndarray  # (U,) hidden position on the one contested axis
    camp: np.ndarray  # (U,) CAMP_LEFT / CAMP_MODERATE / CAMP_RIGHT
    activity: np.ndarray  # (U,) relative posting/rating activity
    post_author: np.ndarray  # (P,)
    slant: np.ndarray  # (P,)
    quality: np.ndarray  # (P,)
    incivility: np.ndarray  # (P,) in [0, 1]
    created_hours: np.ndarray  # (P,) hours since the start of the window
    follows: list[np.ndarray]  # follows[u] = sorted author ids u follows
    model: ReactionModel
    window_hours: float

    @property
    def n_users(self) -> int:
        return int(self.viewpoint.size)

    @property
    def n_posts(self) -> int:
        return int(self.slant.size)


def generate_society(
    n_users: int,
    n_posts: int,
    *,
    seed: int,
    model: ReactionModel | None = None,
    window_hours: float = 48.0,
    follows_per_user: int = 30,
) -> Society:
    """Two camps (40 % each) and moderates (20 %); posts slanted like their author."""
    if n_users < 2 or n_posts < 1:
        raise ValueError("a society needs at least 2 users and 1 post")
    rng = np.random.default_rng(seed)
    model = model or ReactionModel()
    camp = rng.choice(
        [CAMP_LEFT, CAMP_MODERATE, CAMP_RIGHT], size=n_users, p=[0.4, 0.2, 0.4]
    )
    viewpoint = np.where(
        camp == CAMP_MODERATE,
        rng.normal(0.0, 0.25, n_users),
        camp * 0.8 + rng.normal(0.0, 0.25, n_users),
    )
    activity = rng.lognormal(0.0, 1.0, n_users)
    author = rng.choice(n_users, size=n_posts, p=activity / activity.sum())
    slant = np.clip(0.8 * viewpoint[author] + rng.normal(0.0, 0.3, n_posts), -1.5, 1.5)
    quality = rng.normal(0.0, 1.0, n_posts)
    # Incivility rises with how extreme the post is, with plenty of noise.
    incivility = _sigmoid(-2.0 + 1.5 * np.abs(slant) + rng.normal(0.0, 1.0, n_posts))
    created = np.sort(rng.uniform(0.0, window_hours, n_posts))
    follows: list[np.ndarray] = []
    for u in range(n_users if follows_per_user > 0 else 0):
        # Homophilous follows: similar viewpoints, active authors.
        w = activity * np.exp(2.0 * viewpoint[u] * viewpoint)
        w[u] = 0.0
        k = min(follows_per_user, n_users - 1)
        follows.append(
            np.sort(rng.choice(n_users, size=k, replace=False, p=w / w.sum()))
        )
    return Society(
        viewpoint=viewpoint,
        camp=camp,
        activity=activity,
        post_author=author,
        slant=slant,
        quality=quality,
        incivility=incivility,
        created_hours=created,
        follows=follows,
        model=model,
        window_hours=window_hours,
    )


def helpful_prob(
    model: ReactionModel,
    viewpoint: np.ndarray,
    slant: np.ndarray,
    quality: np.ndarray,
    incivility: np.ndarray,
) -> np.ndarray:
    """P(a rating says helpful), broadcasting viewer against post arrays."""
    agree = viewpoint * slant
    return _sigmoid(
        model.help_base
        + model.help_quality * quality
        + model.help_incivility * incivility
        + model.help_agree * agree
    )


def like_prob(
    model: ReactionModel,
    viewpoint: np.ndarray,
    slant: np.ndarray,
    quality: np.ndarray,
    incivility: np.ndarray,
) -> np.ndarray:
    """P(a viewer likes a post they are shown), broadcasting."""
    agree = viewpoint * slant
    return _sigmoid(
        model.like_base
        + model.like_quality * quality
        + model.like_agree * agree
        + model.like_outrage * incivility * np.maximum(agree, 0.0)
    )


def bridging_truth(society: Society, *, sample_per_camp: int = 300) -> np.ndarray:
    """Hidden truth per post: how the *less favourable* camp reacts to it.

    The mean helpfulness probability among the left camp and among the right camp,
    and the lower of the two: high only for posts that both sides find helpful.
    """
    rng = np.random.default_rng(12345)
    out = np.full(society.n_posts, np.inf)
    for c in (CAMP_LEFT, CAMP_RIGHT):
        members = np.flatnonzero(society.camp == c)
        if members.size == 0:
            continue
        members = rng.choice(
            members, size=min(sample_per_camp, members.size), replace=False
        )
        mean = np.zeros(society.n_posts)
        for chunk in np.array_split(members, max(1, members.size // 50)):
            p = helpful_prob(
                society.model,
                society.viewpoint[chunk][:, None],
                society.slant[None, :],
                society.quality[None, :],
                society.incivility[None, :],
            )
            mean += p.sum(axis=0)
        out = np.minimum(out, mean / members.size)
    return out


def sample_ratings(
    society: Society,
    *,
    ratings_per_rater: float,
    seed: int,
    selection_bias: float | None = None,
    oversample: int = 4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratings (rater, post, value in {0, 0.5, 1}) under biased self-selection.

    Each rater looks at ``oversample`` × their quota of random posts and rates the
    quota, picked without replacement with weight exp(bias × agreement): raters
    mostly rate what they already agree with. Quotas follow activity.
    """
    rng = np.random.default_rng(seed)
    bias = society.model.selection_bias if selection_bias is None else selection_bias
    n_u, n_p = society.n_users, society.n_posts
    quota = np.maximum(
        1,
        np.round(ratings_per_rater * society.activity / society.activity.mean()),
    ).astype(np.int64)
    quota = np.minimum(quota, max(1, n_p // oversample))
    raters, items = [], []
    for lo in range(0, n_u, 1000):
        us = np.arange(lo, min(lo + 1000, n_u))
        width = int(quota[us].max()) * oversample
        cand = rng.integers(0, n_p, size=(us.size, width))
        # Gumbel top-k = weighted sampling without replacement.
        key = bias * society.viewpoint[us][:, None] * society.slant[cand]
        key = key + rng.gumbel(size=key.shape)
        order = np.argsort(-key, axis=1)
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(width)[None, :], axis=1)
        take = rank < quota[us][:, None]
        raters.append(np.broadcast_to(us[:, None], cand.shape)[take])
        items.append(cand[take])
    r = np.concatenate(raters)
    i = np.concatenate(items)
    # One rating per (rater, post).
    pair = np.unique(r * np.int64(n_p) + i)
    r, i = pair // n_p, pair % n_p
    p = helpful_prob(
        society.model,
        society.viewpoint[r],
        society.slant[i],
        society.quality[i],
        society.incivility[i],
    )
    u = rng.random(r.size)
    somewhat = rng.random(r.size) < society.model.somewhat_share
    v = np.where(somewhat, 0.5, (u < p).astype(np.float64))
    return r, i, v
