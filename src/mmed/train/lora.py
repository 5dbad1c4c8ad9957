"""LoRA: which layers get adapters, wrapping a model with peft, and `mmed train merge-lora`.

Target modules "auto" come from a table by architecture (config.model_type): attention and MLP projections, the
usual choice for SFT (QLoRA paper: adapting every linear block matters more than the rank). An architecture not
in the table gets every nn.Linear except the output head. A list in the config overrides both; each name must
match some module, so a typo fails before training instead of adapting nothing.

Adapters are saved and loaded as safetensors only: an adapter folder with only adapter_model.bin (a pickle, which
can run code when loaded) is refused.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from mmed.errors import ConfigError, MmedError

_LLAMA_LIKE = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
TARGETS_BY_MODEL_TYPE: dict[str, tuple[str, ...]] = {
    **{t: _LLAMA_LIKE for t in ("llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma",
                                "gemma2", "gemma3_text", "olmo", "olmo2", "granite", "cohere", "internlm2")},
    "phi3": ("qkv_proj", "o_proj", "gate_up_proj", "down_proj"),
    "phi": ("q_proj", "k_proj", "v_proj", "dense", "fc1", "fc2"),
    "gpt2": ("c_attn", "c_proj", "c_fc"),
    "gpt_neox": ("query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"),
    "falcon": ("query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"),
    "bloom": ("query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"),
    "opt": ("q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"),
}
ADAPTER_WEIGHTS = "adapter_model.safetensors"


def _linear_names(model: Any) -> set[str]:
    """Last name parts of the linear layers (nn.Linear, and GPT-2's Conv1D), the output head excluded."""
    import torch

    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    names: set[str] = set()
    for name, module in model.named_modules():
        linear = isinstance(module, torch.nn.Linear) or type(module).__name__ == "Conv1D"
        if linear and module is not head and name:
            names.add(name.rsplit(".", 1)[-1])
    return names


def target_modules(model: Any, requested: str | tuple[str, ...] = "auto") -> list[str]:
    """The module names LoRA adapts: the user's list (checked), the table's for the architecture, or all linears."""
    available = _linear_names(model)
    if requested != "auto":
        missing = [n for n in requested if n not in available]
        if missing:
            raise ConfigError(f"lora.target_modules: {missing} match no linear layer of this model; "
                              f"its linear layers are named {', '.join(sorted(available))}")
        return list(requested)
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    table = TARGETS_BY_MODEL_TYPE.get(str(model_type))
    if table and all(n in available for n in table):
        return list(table)
    if not available:
        raise ConfigError(f"LoRA: model type {model_type} has no linear layers to adapt; set lora.target_modules")
    return sorted(available)


def apply_lora(model: Any, r: int, alpha: int, dropout: float, targets: str | tuple[str, ...]) -> Any:
    """The model wrapped by peft with fresh LoRA adapters (only they train)."""
    from peft import LoraConfig, get_peft_model

    modules = target_modules(model, targets)
    config = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=modules, bias="none",
                        task_type="CAUSAL_LM")
    return get_peft_model(model, config)


def check_adapter_folder(adapter: Path) -> dict[str, Any]:
    """adapter_config.json's content; the folder must hold safetensors adapter weights."""
    from mmed.io import read_json

    if not (adapter / "adapter_config.json").is_file():
        raise MmedError(f"adapter {adapter}: no adapter_config.json; give the OUTPUT/adapter folder of a LoRA run")
    if not (adapter / ADAPTER_WEIGHTS).is_file():
        found = sorted(p.name for p in adapter.iterdir())
        raise MmedError(f"adapter {adapter}: no {ADAPTER_WEIGHTS} (found: {', '.join(found)}); adapters are loaded "
                        "from safetensors only (a .bin adapter is a pickle that can run code when loaded)")
    config = read_json(adapter / "adapter_config.json")
    if not isinstance(config, dict):
        raise MmedError(f"adapter {adapter}: adapter_config.json is not a JSON object")
    return config


def base_model_of(adapter: Path) -> str:
    """The base model spec an adapter was trained on: the run's manifest (our spec), else peft's record."""
    from mmed.io import read_json

    manifest = adapter.parent / "manifest.json"
    if manifest.is_file():
        spec = (read_json(manifest).get("model") or {}).get("spec")
        if isinstance(spec, str):
            return spec
    base = check_adapter_folder(adapter).get("base_model_name_or_path")
    if not isinstance(base, str) or not base:
        raise MmedError(f"adapter {adapter}: adapter_config.json names no base model; pass --base")
    return base if Path(base).is_dir() else f"hf:{base}"


def load_adapter_model(base: str, adapter: Path, *, trust_remote_code: bool = False, dtype: str = "float32") -> Any:
    """Base weights (safetensors) with the adapter applied, in eval mode: what the adapter run produces."""
    from peft import PeftModel

    from mmed.train.loop import load_base_model

    check_adapter_folder(adapter)
    model = load_base_model(base, trust_remote_code=trust_remote_code, dtype=dtype)
    return PeftModel.from_pretrained(model, str(adapter), is_trainable=False).eval()


def merge_lora(adapter: str | Path, out: str | Path, *, base: str | None = None, trust_remote_code: bool = False,
               dtype: str = "float32") -> Path:
    """Write base + adapter merged into one full safetensors model folder (with the tokenizer); returns `out`.

    Written into a temporary sibling folder and renamed at the end: a killed merge leaves no half model.
    """
    adapter, out = Path(adapter), Path(out)
    check_adapter_folder(adapter)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise MmedError(f"merge-lora: {out} already exists and is not empty; remove it or choose another --out")
    spec = base or base_model_of(adapter)
    model = load_adapter_model(spec, adapter, trust_remote_code=trust_remote_code, dtype=dtype)
    merged = model.merge_and_unload()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        merged.save_pretrained(tmp, safe_serialization=True)
        tokenizer_source = adapter if (adapter / "tokenizer_config.json").is_file() else None
        if tokenizer_source is not None:
            from transformers import AutoTokenizer

            AutoTokenizer.from_pretrained(str(tokenizer_source), trust_remote_code=False).save_pretrained(tmp)
        else:
            from mmed.train.loop import load_train_tokenizer

            load_train_tokenizer(spec, trust_remote_code=trust_remote_code).save_pretrained(tmp)
        tmp.chmod(0o755)  # mkdtemp makes it private; a model folder is as shareable as any output
        if out.exists():
            out.rmdir()  # empty (checked above)
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
