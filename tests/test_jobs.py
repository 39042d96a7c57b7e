"""Bulk jobs run with the cyclic garbage collector paused, and always give it back."""
import gc

import pytest

from crm.jobs import collector_paused


@pytest.fixture(autouse=True)
def collector_on():
    gc.enable()
    yield
    gc.enable()


def test_paused_inside_and_back_on_after():
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_back_on_after_the_job_fails():
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("job failed")
    assert gc.isenabled()


def test_a_nested_job_leaves_it_to_the_outer_one():
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_left_off_when_it_was_off_before():
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()
