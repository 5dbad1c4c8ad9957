"""mmed.configfiles: shipped configs by name, and the YAML reader every config loader shares."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmed.configfiles import read_yaml_mapping, resolve_config_path, shipped_configs
from mmed.errors import ConfigError


def test_yaml_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent\.yaml: cannot read it"):
        read_yaml_mapping(tmp_path / "absent.yaml")
    cases = {"bad.yaml": (b"a: [unclosed\n", "bad.yaml: not valid YAML"),
             "latin1.yaml": ("name: fièvre\n".encode("latin-1"), "latin1.yaml: not valid YAML"),
             "list.yaml": (b"- a\n- b\n", "list.yaml: expected a mapping of fields at the top level, got list")}
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ConfigError, match=message):
            read_yaml_mapping(tmp_path / name)


def test_a_mapping_comes_with_the_bytes_it_was_read_from(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_bytes(b"a: 1\r\nb: [x]\r\n")
    assert read_yaml_mapping(tmp_path / "ok.yaml") == ({"a": 1, "b": ["x"]}, b"a: 1\r\nb: [x]\r\n")
    (tmp_path / "empty.yaml").write_bytes(b"# nothing\n")
    assert read_yaml_mapping(tmp_path / "empty.yaml")[0] == {}


def test_shipped_names_resolve_and_a_local_file_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = shipped_configs("mmed.corpus", "recipes")
    assert {"mmedc", "sample"} <= set(shipped)
    monkeypatch.chdir(tmp_path)
    assert resolve_config_path("sample", shipped, "corpus") == shipped["sample"]
    (tmp_path / "sample").write_text("name: mine\n", encoding="utf-8")
    assert resolve_config_path("sample", shipped, "corpus") == Path("sample")
    with pytest.raises(ConfigError, match=r"nope: no such config file, and not a shipped corpus config \(.*mmedc"):
        resolve_config_path("nope", shipped, "corpus")
    train = shipped_configs("mmed.train", "configs", keep=lambda stem: stem.startswith("sft-"))
    assert set(train) == {"sft-lora-demo", "sft-full-demo"}
