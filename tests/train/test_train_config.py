"""Training configs: typed parsing, fail-fast checks before the model loads, and the shipped launcher configs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mmed.errors import ConfigError
from mmed.train.config import CptConfig, SftConfig, check_paths, load_config

CONFIGS = Path(__file__).resolve().parents[2] / "src" / "mmed" / "train" / "configs"


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def cpt_yaml(tmp_path: Path, **changes: Any) -> Path:
    shards = tmp_path / "packed"
    shards.mkdir(exist_ok=True)
    (shards / "meta.json").write_text("{}", encoding="utf-8")
    data: dict[str, Any] = {"model": "smollm2", "output": str(tmp_path / "out"), "data": {"shards": str(shards)},
                            "train": {"max_steps": 3, "lr": "2e-5"}}
    for key, value in changes.items():
        section, _, field = key.partition("__")
        if field:
            data.setdefault(section, {})[field] = value
        else:
            data[section] = value
    return write(tmp_path / "cpt.yaml", data)


def test_a_valid_config_becomes_typed_frozen_dataclasses(tmp_path: Path) -> None:
    loaded = load_config(cpt_yaml(tmp_path, lora={"enabled": True, "target_modules": ["q_proj", "v_proj"]}), "cpt")
    cfg = loaded.config
    assert isinstance(cfg, CptConfig)
    assert cfg.train.lr == 2e-5  # YAML 1.1 reads 2e-5 as a string; a float field accepts it
    assert cfg.train.max_steps == 3 and cfg.train.bf16 == "auto"
    assert cfg.lora.target_modules == ("q_proj", "v_proj")
    assert cfg.data.shards == tmp_path / "packed" and cfg.output == tmp_path / "out"
    assert len(loaded.sha256) == 64 and loaded.as_dict()["data"]["shards"] == str(tmp_path / "packed")
    with pytest.raises(AttributeError):
        cfg.train.lr = 1.0  # type: ignore[misc]
    check_paths(loaded)


@pytest.mark.parametrize(("changes", "message"), [
    ({"train__lerning_rate": 1e-4}, "train.lerning_rate: unknown field"),
    ({"epochz": 3}, "epochz: unknown field"),
    ({"train__max_steps": "ten"}, "train.max_steps: expected an integer, got str 'ten'"),
    ({"train__bf16": "maybe"}, "train.bf16: expected true or false or one of 'auto'"),
    ({"lora__enabled": "yes"}, "lora.enabled: expected true or false"),
    ({"data": {"heldout_fraction": 0.1}}, "data.shards: required field is missing"),
    ({"train": [1, 2]}, "train: expected a mapping of fields"),
    ({"model_options__torch_dtype": "int8"}, "model_options.torch_dtype: expected one of"),
])
def test_bad_fields_name_the_file_and_the_field(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    path = cpt_yaml(tmp_path, **changes)
    with pytest.raises(ConfigError) as e:
        load_config(path, "cpt")
    assert str(path) in str(e.value) and message in str(e.value)


def test_unknown_field_suggests_the_close_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'lr'"):
        load_config(cpt_yaml(tmp_path, train__lrr=1e-4), "cpt")


def test_overrides_are_parsed_as_yaml_and_checked(tmp_path: Path) -> None:
    path = cpt_yaml(tmp_path)
    loaded = load_config(path, "cpt", ["train.max_steps=7", "lora.target_modules=[q_proj]", "output=elsewhere"])
    assert loaded.config.train.max_steps == 7 and loaded.config.lora.target_modules == ("q_proj",)
    assert loaded.config.output == Path("elsewhere") and loaded.overrides[0] == "train.max_steps=7"
    with pytest.raises(ConfigError, match=r"train\.max_steps: expected an integer"):
        load_config(path, "cpt", ["train.max_steps=many"])
    with pytest.raises(ConfigError, match=r"expected key\.sub=value"):
        load_config(path, "cpt", ["train.max_steps"])


@pytest.mark.parametrize(("changes", "message"), [
    ({"data": {"shards": "nowhere"}}, "data.shards: nowhere: no such folder"),
    ({"data__heldout": {"medical": ["missing.jsonl"]}}, "data.heldout.medical[0]: missing.jsonl: no such file"),
    ({"train__eval_steps": 5}, "train.eval_steps > 0 needs data.heldout_fraction > 0"),
    ({"train__batch_size": 0}, "train.batch_size: must be > 0"),
    ({"lora__merge": True}, "lora.merge / lora.qlora need lora.enabled"),
    ({"train__deepspeed": "no-such.json"}, "train.deepspeed: no-such.json: no such file"),
])
def test_missing_data_and_inconsistent_values_fail_in_check_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  changes: dict[str, Any], message: str) -> None:
    monkeypatch.chdir(tmp_path)
    loaded = load_config(cpt_yaml(tmp_path, **changes), "cpt")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_paths(loaded)


def test_sft_config_checks_bench_paths_languages_and_eval_split(tmp_path: Path) -> None:
    base = {"model": "smollm2", "output": str(tmp_path / "o"), "data": {"bench": "mmed:data/sample_bench"}}
    loaded = load_config(write(tmp_path / "sft.yaml", base), "sft")
    assert isinstance(loaded.config, SftConfig) and loaded.config.data.bench[0].is_dir()  # mmed: = in the package
    check_paths(loaded)
    for data, message in [({"bench": ["nope.jsonl"]}, r"data.bench\[0\]: nope.jsonl: no such file"),
                          ({"bench": "mmed:data/sample_bench", "langs": ["xx"]}, r"data.langs: unknown language"),
                          ({"bench": "mmed:data/sample_bench", "style": "alpaca"}, "data.style: expected one of")]:
        path = write(tmp_path / "bad.yaml", {**base, "data": data})
        with pytest.raises(ConfigError, match=message):
            check_paths(load_config(path, "sft"))
    path = write(tmp_path / "ev.yaml", {**base, "train": {"eval_steps": 5}})
    with pytest.raises(ConfigError, match=r"needs data\.eval_split"):
        check_paths(load_config(path, "sft"))


def test_unreadable_or_non_mapping_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml", "cpt")
    with pytest.raises(ConfigError, match="sft-lora-demo: cannot read"):  # shipped names are per kind
        load_config("sft-lora-demo", "cpt")
    (tmp_path / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(tmp_path / "list.yaml", "cpt")
    (tmp_path / "bad.yaml").write_text("model: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml", "cpt")


@pytest.mark.parametrize(("name", "kind"), [("cpt-demo.yaml", "cpt"), ("sft-lora-demo.yaml", "sft"),
                                            ("sft-full-demo.yaml", "sft")])
def test_shipped_training_configs_parse(name: str, kind: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # by name from anywhere, as after `pip install mmed`
    by_name = load_config(Path(name).stem, kind)  # type: ignore[arg-type]
    assert by_name.path == CONFIGS / name
    cfg = load_config(CONFIGS / name, kind).config  # type: ignore[arg-type]
    assert cfg.model == "smollm2" and cfg.train.seed == 42
    if kind == "sft":
        assert isinstance(cfg, SftConfig) and cfg.data.bench[0].is_dir()
        assert cfg.lora.enabled == (name == "sft-lora-demo.yaml")


def _launch_options() -> dict[str, Any]:
    from accelerate.commands.launch import launch_command_parser

    return vars(launch_command_parser().parse_args(["script.py"]))


def test_accelerate_fsdp_config_is_full_shard_by_decoder_layer_in_bf16() -> None:
    pytest.importorskip("accelerate")
    from accelerate.commands.config.config_args import ClusterConfig

    path = CONFIGS / "accelerate-fsdp.yaml"
    cfg = ClusterConfig.from_yaml_file(str(path))  # rejects unknown top-level keys
    fsdp = cfg.fsdp_config
    assert cfg.distributed_type.value == "FSDP" and cfg.mixed_precision == "bf16" and cfg.num_processes == 8
    assert fsdp["fsdp_auto_wrap_policy"] == "TRANSFORMER_BASED_WRAP"
    assert fsdp["fsdp_transformer_layer_cls_to_wrap"].endswith("DecoderLayer")
    assert fsdp["fsdp_reshard_after_forward"] is True and fsdp["fsdp_state_dict_type"] == "FULL_STATE_DICT"
    options = _launch_options()
    assert [k for k in fsdp if k not in options] == []  # every key is an `accelerate launch` option
    # The launcher's own rule: cpu_ram_efficient_loading needs sync_module_states.
    assert not fsdp.get("fsdp_cpu_ram_efficient_loading") or fsdp.get("fsdp_sync_module_states")


def test_accelerate_deepspeed_config_points_to_the_zero3_json() -> None:
    pytest.importorskip("accelerate")
    from accelerate.commands.config.config_args import ClusterConfig
    from accelerate.utils.deepspeed import HfDeepSpeedConfig

    cfg = ClusterConfig.from_yaml_file(str(CONFIGS / "accelerate-deepspeed-zero3.yaml"))
    ds = cfg.deepspeed_config
    assert cfg.distributed_type.value == "DEEPSPEED" and cfg.num_processes == 8
    assert [k for k in ds if k not in _launch_options()] == []
    # With a DeepSpeed file, accelerate refuses precision/stage settings in its own config.
    assert cfg.mixed_precision is None and "zero_stage" not in ds
    json_path = CONFIGS.parents[3] / ds["deepspeed_config_file"]  # relative to the repository root
    assert json_path == CONFIGS / "deepspeed-zero3.json"
    hf = HfDeepSpeedConfig(json.loads(json_path.read_text(encoding="utf-8")))
    assert hf.is_zero3() and hf.get_value("bf16.enabled") == "auto"
    assert hf.get_value("zero_optimization.stage3_gather_16bit_weights_on_model_save") is True


def test_deepspeed_json_autos_are_all_filled_by_the_trainer(tmp_path: Path) -> None:
    raw = json.loads((CONFIGS / "deepspeed-zero3.json").read_text(encoding="utf-8"))

    def autos(node: Any, prefix: str = "") -> list[str]:
        if isinstance(node, dict):
            return [k for key, v in node.items() for k in autos(v, f"{prefix}{key}.")]
        return [prefix[:-1]] if node == "auto" else []

    # The keys transformers' HfTrainerDeepSpeedConfig fills from TrainingArguments and the model.
    fillable = {"bf16.enabled", "fp16.enabled", "gradient_accumulation_steps", "gradient_clipping", "train_batch_size",
                "train_micro_batch_size_per_gpu", "zero_optimization.reduce_bucket_size",
                "zero_optimization.stage3_prefetch_bucket_size", "zero_optimization.stage3_param_persistence_threshold"}
    assert set(autos(raw)) <= fillable
    assert "optimizer" not in raw and "scheduler" not in raw  # the Trainer's AdamW and cosine schedule are used
    if importlib.util.find_spec("deepspeed") is None:
        return
    from types import SimpleNamespace

    from transformers import TrainingArguments
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig

    hf = HfTrainerDeepSpeedConfig(raw)
    args = TrainingArguments(output_dir=str(tmp_path), per_device_train_batch_size=4, report_to="none")
    hf.trainer_config_process(args)
    hf.trainer_config_finalize(args, SimpleNamespace(config=SimpleNamespace(hidden_size=64)), 10)
    assert "auto" not in json.dumps(hf.config)


def test_slurm_example_launches_the_cpt_command_with_accelerate() -> None:
    text = (CONFIGS / "slurm-cpt-8gpu.sbatch").read_text(encoding="utf-8")
    assert "#SBATCH --gres=gpu:8" in text
    assert "accelerate launch --config_file" in text and "-m mmed.cli train cpt" in text
    assert "accelerate-fsdp.yaml" in text and "--resume" in text
    assert (CONFIGS / "accelerate-fsdp.yaml").is_file()


def test_output_folder_rules_for_fresh_and_resumed_runs(tmp_path: Path) -> None:
    from mmed.train.loop import prepare_output

    out = tmp_path / "run"
    assert prepare_output(out, resume=False, where="c.yaml") is None  # nothing there yet
    with pytest.raises(ConfigError, match="--resume: no checkpoint"):
        prepare_output(out, resume=True, where="c.yaml")
    for step in (2, 4, 10):
        (out / f"checkpoint-{step}").mkdir(parents=True)
        if step != 10:  # checkpoint-10 was being written when the run was killed: no trainer_state.json
            (out / f"checkpoint-{step}" / "trainer_state.json").write_text("{}", encoding="utf-8")
    assert prepare_output(out, resume=True, where="c.yaml") == out / "checkpoint-4"
    with pytest.raises(ConfigError, match=r"already holds checkpoints.*--resume"):
        prepare_output(out, resume=False, where="c.yaml")
    done = tmp_path / "done"
    (done / "final").mkdir(parents=True)
    with pytest.raises(ConfigError, match="holds a finished run"):
        prepare_output(done, resume=False, where="c.yaml")


def test_truncate_metrics_keeps_the_lines_up_to_the_checkpoint(tmp_path: Path) -> None:
    from mmed.train.loop import METRICS, truncate_metrics

    (tmp_path / METRICS).write_text("".join(json.dumps({"step": s, "loss": 1.0}) + "\n" for s in (1, 2, 3, 4, 5)),
                                    encoding="utf-8")
    truncate_metrics(tmp_path, 3)
    lines = (tmp_path / METRICS).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3]


def test_the_train_commands_import_nothing_heavy() -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom mmed.train.commands import train_app\n"
            "heavy = [m for m in ('torch', 'transformers', 'peft', 'yaml', 'numpy') if m in sys.modules]\n"
            "print('HEAVY', heavy, sorted(c.name for c in train_app.registered_commands))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY [] ['cpt', 'merge-lora', 'sft']" in out


def test_throughput_and_mfu_arithmetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("transformers")
    from types import SimpleNamespace

    from mmed.train import loop

    assert loop.peak_flops("NVIDIA H100 80GB HBM3") == 989e12 and loop.peak_flops("NVIDIA H100 PCIe") == 756e12
    assert loop.peak_flops("NVIDIA A100-SXM4-80GB") == 312e12 and loop.peak_flops("Tesla T4") is None
    counter = loop.TokenCounter(tokens=0, target_tokens=0)
    callback = loop._metrics_callback_class()(tmp_path, counter, n_params=10**9, world_size=2)
    callback.peak = 1e15  # as on_train_begin sets it on a known GPU
    clock = iter([100.0, 102.0])  # one step of 2 s
    monkeypatch.setattr(loop.time, "perf_counter", lambda: next(clock))
    args = SimpleNamespace(should_save=True)
    state = SimpleNamespace(global_step=1, epoch=0.5)
    callback.on_step_begin(args, state, None)
    counter.tokens, counter.target_tokens = 4000, 1000
    callback.on_step_end(args, state, None)
    callback.on_log(args, state, None, logs={"loss": 2.0})
    callback.on_log(args, state, None, logs={"eval_loss": 1.0})
    rows = [json.loads(line) for line in (tmp_path / loop.METRICS).read_text(encoding="utf-8").splitlines()]
    assert rows[0]["tokens_per_s_per_device"] == 2000 and rows[0]["tokens_per_s"] == 4000  # 2 processes
    assert rows[0]["trained_tokens_per_s"] == 1000 and rows[0]["tokens_seen"] == 8000
    assert rows[0]["mfu"] == pytest.approx(6 * 10**9 * 2000 / 1e15)  # per device: 6 N tokens/s / peak
    assert rows[1]["eval_ppl"] == pytest.approx(2.718281828)
