"""The retry policy: the delay grows to its cap and stays there, however long it retries."""

from wallaby.backends.couchdb._core.retry import Backoff


def test_the_delay_doubles_up_to_the_cap():
    backoff = Backoff(first=0.1, cap=1.0, jitter=0)
    assert [backoff.delay(attempt) for attempt in (1, 2, 3, 4, 5)] == [0.1, 0.2, 0.4, 0.8, 1.0]


def test_retrying_forever_stays_at_the_cap():
    backoff = Backoff(first=0.001, cap=0.01, jitter=0)
    assert backoff.delay(1025) == backoff.delay(10**6) == 0.01
    assert not backoff.gives_up(10**6)
