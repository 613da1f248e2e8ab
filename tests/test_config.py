import pytest

from xlw.config import PROFILES, ProfileError, check_profile, for_pair, profile_table, settings


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


def test_each_notebook_has_a_settings_file_and_a_value_per_profile(tmp_path):
    from xlw.config import SETTINGS_DIR, read_settings
    from xlw.data import project_root

    notebooks = {p.stem for p in (project_root() / "notebooks").glob("[0-9]*.ipynb")}
    assert {p.stem for p in SETTINGS_DIR.glob("*.yaml")} == notebooks
    (tmp_path / "05_x.yaml").write_text("lr: {smoke: 0.1, cpu: 0.01, gpu: 0.001}  # why\nsteps: 3\n")
    assert read_settings(tmp_path) == {"smoke": {"05_x": {"lr": 0.1, "steps": 3}},
                                       "cpu": {"05_x": {"lr": 0.01, "steps": 3}},
                                       "gpu": {"05_x": {"lr": 0.001, "steps": 3}}}
    (tmp_path / "05_x.yaml").write_text("lr: {smoke: 0.1, cpu: 0.01}\n")
    with pytest.raises(ProfileError, match=r"05_x\.yaml: setting 'lr' gives smoke, cpu: .*exactly smoke, cpu, gpu"):
        read_settings(tmp_path)
    (tmp_path / "05_x.yaml").write_text("lr: 1e-3\n")  # YAML 1.1 reads this as the string '1e-3'
    with pytest.raises(ProfileError, match=r"'lr' = '1e-3' is read as text; write .* 1\.0e-3"):
        read_settings(tmp_path)


def test_overrides_replace_settings_after_checking_key_and_type():
    from xlw.config import check_overrides

    cfg = settings("smoke", "05_qa", {"test_size": 3, "lr": 1, "eval_languages": ["en", "th"]})
    assert (cfg.test_size, cfg.lr, cfg.eval_languages) == (3, 1, ["en", "th"])
    assert settings("smoke", "05_qa").test_size == PROFILES["smoke"]["05_qa"]["test_size"]  # no leak between calls
    assert check_overrides("05_qa", {"test_size": None}) == {"test_size": None}  # the cpu profile's "all"
    with pytest.raises(ProfileError, match=r"05_qa has no setting 'tset_size': expected one of .*test_size"):
        settings("cpu", "05_qa", {"tset_size": 3})
    with pytest.raises(ProfileError, match=r"'max_length' = 2\.5 is a number: expected int \(cpu profile: 384\)"):
        settings("cpu", "05_qa", {"max_length": 2.5})
    with pytest.raises(ProfileError, match=r"'eval_languages' = 'th' is a str: expected None or list"):
        settings("cpu", "05_qa", {"eval_languages": "th"})
    with pytest.raises(ProfileError, match=r"'model' = True is a bool: expected str"):
        settings("cpu", "05_qa", {"model": True})


def test_for_pair_reads_a_pair_its_default_or_a_plain_value():
    cfg = settings("cpu", "03b_llm_translation", {"lr": 0.002})
    assert for_pair(cfg, "train_size", "en-de") == 6400 and for_pair(cfg, "train_size", "en-cs") == 3200  # "*"
    assert for_pair(cfg, "lr", "en-de") == 0.002
    only_de = settings("cpu", "03b_llm_translation", {"max_steps": {"en-de": 10}})
    with pytest.raises(ProfileError, match=r"setting 'max_steps' has no value for 'en-cs' \(it has en-de\): "
                                           r"add one, e\.g\. -p max_steps='\{\"en-cs\": …\}'"):
        for_pair(only_de, "max_steps", "en-cs")
