"""The vLLM backend (optional extra; needs a CUDA GPU): `vllm:<path>` runs a local safetensors folder in-process.

vLLM batches and schedules everything itself, so each method builds all its requests and makes one
`LLM.generate` call. Requests are token ids made by the same lm-eval rules as the HF backend (hf.encode_pair),
so the two backends score the same tokens. Log-probabilities are vLLM's (by default the log-softmax of the raw
logits over the whole vocabulary, like the HF backend; numbers differ only by kernel precision).

- loglikelihood: prompt = context + continuation ids, max_tokens=1, prompt_logprobs=1; the continuation's
  prompt log-probs are summed; is_greedy when each continuation token is the most likely one at its position.
- next_token_logprobs: the prompt with max_tokens=1 and logprobs=TOP_K. A candidate whose first token is not in
  the top-k is looked up in a second call: the prompt log-prob of that token in prompt + token (vLLM always returns
  the actual prompt token's log-prob). If vLLM returns nothing for it, the candidate gets -inf.
- generate: greedy at temperature 0, else seeded sampling (SamplingParams.seed: per request, so independent of
  batching); cut at the first stop string.
vllm is imported only in `load`; the class takes the LLM object and SamplingParams class so the request building
and parsing can be tested with a stand-in (tests/eval/test_vllm_backend.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mmed.errors import ConfigError, MmedError
from mmed.eval.backends.base import GenerationParams, LoglikelihoodRequest, LoglikelihoodResult, ModelInfo
from mmed.eval.backends.hf import candidate_first_tokens, cut_at_stop, encode, encode_pair, prefix_token_id

TOP_K = 20  # vLLM's default cap on requested logprobs (max_logprobs)
INSTALL_HINT = "pip install vllm; needs a CUDA GPU"


def load(spec: Any, *, dtype: str = "auto", max_model_len: int | None = None, gpu_memory_utilization: float = 0.9,
         tensor_parallel_size: int = 1, trust_remote_code: bool = False, seed: int = 0, **ignored: Any) -> VLLMBackend:
    """vLLM over a local folder. `batch_size`/`device` (HF options) are ignored: vLLM schedules batches itself."""
    unknown = set(ignored) - {"batch_size", "device", "share_prefix"}
    if unknown:
        raise ConfigError(f"model '{spec.raw}': unknown option(s) {sorted(unknown)} for the vllm backend")
    try:
        import vllm
    except ImportError as exc:
        raise MmedError(f"model '{spec.raw}': vLLM is not installed ({INSTALL_HINT})") from exc
    from mmed.models import resolve_hf_path

    path = resolve_hf_path(spec)
    llm = vllm.LLM(model=path, dtype=dtype, max_model_len=max_model_len, seed=seed, load_format="safetensors",
                   gpu_memory_utilization=gpu_memory_utilization, tensor_parallel_size=tensor_parallel_size,
                   trust_remote_code=trust_remote_code)
    name = "SmolLM2-135M-Instruct" if spec.path == "smollm2" else Path(path).name
    return VLLMBackend(llm, vllm.SamplingParams, name=name, path=path,
                       details={"vllm": vllm.__version__, "dtype": dtype, "tensor_parallel_size": tensor_parallel_size})


class VLLMBackend:
    """Implements mmed.eval.backends.base.Backend over a vllm.LLM."""

    def __init__(self, llm: Any, sampling_params: Any, *, name: str, path: str, fingerprint: str | None = None,
                 details: dict | None = None):
        from mmed.models import fingerprint_hf

        self.llm = llm
        self.sampling_params = sampling_params  # the class vllm.SamplingParams (a stand-in in tests)
        self.tokenizer = llm.get_tokenizer()
        self.prefix_id = prefix_token_id(self.tokenizer)
        self.max_length = _max_model_len(llm)
        self.info = ModelInfo(name=name, fingerprint=fingerprint or fingerprint_hf(path),
                              details={"path": path, "backend": "vllm", **(details or {})})

    def _run(self, prompts: list[list[int]], **params: Any) -> list[Any]:
        if not prompts:
            return []
        outputs = self.llm.generate([{"prompt_token_ids": ids} for ids in prompts], self.sampling_params(**params),
                                    use_tqdm=False)
        return list(outputs)

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        pairs = [encode_pair(self.tokenizer, r.context, r.continuation, self.prefix_id) for r in requests]
        todo = [k for k, (_, cont) in enumerate(pairs) if cont]
        for k in todo:
            if len(pairs[k][1]) >= self.max_length:
                raise MmedError(f"continuation of {len(pairs[k][1])} tokens does not fit the model's max_model_len "
                                f"{self.max_length}: {requests[k].continuation[:80]!r}")
        # Left truncation: the last tokens that fit with the one token vLLM insists on generating.
        prompts = [(pairs[k][0] + pairs[k][1])[-(self.max_length - 1):] for k in todo]
        outputs = self._run(prompts, temperature=0.0, max_tokens=1, prompt_logprobs=1)
        results = [LoglikelihoodResult(0.0, 0, True) for _ in requests]  # an empty continuation: log 1
        for k, out in zip(todo, outputs, strict=True):
            cont = pairs[k][1]
            positions = out.prompt_logprobs[-len(cont):]
            total, greedy = 0.0, True
            for token, entry in zip(cont, positions, strict=True):
                total += entry[token].logprob
                greedy = greedy and max(entry, key=lambda t, e=entry: e[t].logprob) == token
            results[k] = LoglikelihoodResult(total, len(cont), greedy)
        return results

    def next_token_logprobs(self, prompts: Sequence[str], candidates: Sequence[Sequence[str]]) -> list[list[float]]:
        contexts: list[list[int]] = []
        firsts: list[list[int]] = []
        for context, tokens in candidate_first_tokens(self.tokenizer, prompts, candidates, self.prefix_id):
            # Room for one more token (the look-up below) and the one generated token.
            contexts.append(context[-(self.max_length - 2):])
            firsts.append(tokens)
        outputs = self._run(contexts, temperature=0.0, max_tokens=1, logprobs=TOP_K)
        scores: list[list[float]] = []
        missing: list[tuple[int, int]] = []  # (prompt index, candidate index) not in the top-k
        for p, out in enumerate(outputs):
            top = out.outputs[0].logprobs[0]
            row = []
            for c, token in enumerate(firsts[p]):
                row.append(top[token].logprob if token in top else math.nan)
                if token not in top:
                    missing.append((p, c))
            scores.append(row)
        # Outside the top-k: the token's prompt log-prob at the end of prompt + token.
        extra = self._run([contexts[p] + [firsts[p][c]] for p, c in missing], temperature=0.0, max_tokens=1,
                          prompt_logprobs=1)
        for (p, c), out in zip(missing, extra, strict=True):
            last = out.prompt_logprobs[-1] or {}
            token = firsts[p][c]
            scores[p][c] = last[token].logprob if token in last else -math.inf
        return scores

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[str]:
        if params.max_new_tokens < 1:
            return ["" for _ in prompts]
        budget = max(1, self.max_length - params.max_new_tokens)
        stops = [s for s in params.stop if s]
        sampling = {"temperature": params.temperature, "max_tokens": params.max_new_tokens, "stop": stops}
        if params.temperature > 0:
            sampling["seed"] = params.seed  # plain temperature sampling: SamplingParams' top_p/top_k defaults are off
        outputs = self._run([encode(self.tokenizer, p)[-budget:] for p in prompts], **sampling)
        return [cut_at_stop(out.outputs[0].text, params.stop) for out in outputs]

    def chat_prompt(self, user_message: str) -> str | None:
        if not getattr(self.tokenizer, "chat_template", None):
            return None
        return self.tokenizer.apply_chat_template([{"role": "user", "content": user_message}], tokenize=False,
                                                  add_generation_prompt=True)


def _max_model_len(llm: Any) -> int:
    """The context length vLLM was started with (its engine config), else 2048."""
    for path in (("llm_engine", "model_config", "max_model_len"), ("model_config", "max_model_len")):
        value: Any = llm
        for attr in path:
            value = getattr(value, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    return 2048
