import pytest

from xlw.config import PROFILES, ProfileError, check_profile, profile_table, settings


def test_every_profile_defines_the_same_sections_and_keys():
    reference = PROFILES["cpu"]
    for name, sections in PROFILES.items():
        assert sections.keys() == reference.keys(), name
        for notebook, section in sections.items():
            assert section.keys() == reference[notebook].keys(), (name, notebook)


def test_settings_returns_attributes():
    cfg = settings("smoke", "01_math")
    assert cfg.n_examples == PROFILES["smoke"]["01_math"]["n_examples"]


def test_unknown_profile_lists_valid_ones():
    with pytest.raises(ProfileError, match="unknown profile 'fast': expected one of cpu, gpu, smoke"):
        check_profile("fast")
    with pytest.raises(ProfileError, match="unknown profile"):
        settings(None, "01_math")


def test_unknown_notebook_section_is_named():
    with pytest.raises(ProfileError, match="no settings for notebook '99_missing'"):
        settings("cpu", "99_missing")


def test_profile_table_has_one_column_per_profile():
    table = profile_table()
    assert list(table.columns) == list(PROFILES)
    assert "01_math.n_examples" in table.index
