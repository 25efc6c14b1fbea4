import pytest

from signlens.training import config
from signlens.training.config import ConfigError


def test_defaults_and_overrides_are_typed(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text('[train]\nmodel = "cnn"\nepochs = 4\nlearning_rate = 1\n')
    cfg = config.load(toml, config.parse_overrides(["--epochs=2", "augment=true", "dropout=none"]))
    assert (cfg.model, cfg.epochs, cfg.learning_rate, cfg.augment, cfg.dropout) == ("cnn", 2, 1.0, True, None)
    assert config.TrainConfig().optimizer == "adam"


@pytest.mark.parametrize(
    "values, message",
    [
        ({"epoch": 3}, "unknown config key"),
        ({"epochs": "three"}, "epochs: expected int"),
        ({"augment": "maybe"}, "expected true/false"),
        ({"epochs": 1.5}, "expected int"),
        ({"optimizer": "lbfgs"}, "optimizer must be one of"),
        ({"precision": "float16"}, "precision must be one of"),
        ({"val_fraction": 1.5}, "val_fraction"),
        ({"early_stopping": True, "val_fraction": 0.0}, "early_stopping needs"),
    ],
)
def test_bad_config_is_a_clear_error(values, message):
    with pytest.raises(ConfigError, match=message):
        config.build(values)


def test_bad_toml(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("epochs = = 3")
    with pytest.raises(ConfigError, match="invalid TOML"):
        config.load(bad)
    with pytest.raises(ConfigError, match="not found"):
        config.load(tmp_path / "missing.toml")


def test_config_is_frozen():
    with pytest.raises(Exception):
        config.TrainConfig().epochs = 3  # type: ignore[misc]


def test_overrides_take_flag_style_values_too() -> None:
    assert config.parse_overrides(["--val-split", "grouped", "--exclude=rows.csv", "epochs=3"]) == \
        {"val_split": "grouped", "exclude": "rows.csv", "epochs": "3"}
    with pytest.raises(config.ConfigError, match="needs a value"):
        config.parse_overrides(["--epochs"])


def test_the_default_recipe_picks_its_precision_per_cpu() -> None:
    """configs/default.toml must train on any x86-64 CPU: bfloat16 only where it is native."""
    from signlens.paths import REPO_ROOT

    assert config.load(REPO_ROOT / "configs" / "default.toml").precision == "auto"
