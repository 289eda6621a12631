"""Every experiment's default and quick configs pass the checks ``--set`` values get
(``introdl.config.validate``: the generic range checks, then the config's own
``validate()``): a new check must never refuse a preset the course runs."""

import pytest

from introdl.config import validate
from introdl.experiment import load_all

EXPERIMENTS = sorted(load_all())


@pytest.mark.parametrize("quick", [False, True], ids=["default", "quick"])
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_presets_validate(name, quick):
    cfg = load_all()[name].make_config(quick)
    assert validate(cfg) == cfg


def test_the_course_has_every_lecture_built():
    assert len(EXPERIMENTS) >= 45
