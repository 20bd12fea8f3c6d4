import pytest

pytestmark = pytest.mark.jvm


def test_oracle_fixture_reaches_100(oracle_episodes):
    assert len(oracle_episodes) == 4
    for ep in oracle_episodes:
        assert ep.final_score == 100
        assert ep.steps and ep.task_description
