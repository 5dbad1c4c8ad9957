"""The Hugging Face transformers backend: any local safetensors causal LM (and the bundled SmolLM2).

Numbers follow lm-eval's HFLM so results are comparable: the same tokenisation of (context, continuation)
pairs (`encode_pair`), the same left truncation, log-softmax over the whole vocabulary. What differs is speed:
with share_prefix=True requests that share a context encode it once and score every continuation on top of
its KV cache (batched passes), instead of re-encoding the context per option as lm-eval does.
share_prefix=False is that lm-eval-style baseline; both give the same numbers (tests hold them to 1e-4).
Options of `load`: device auto|cpu|cuda, dtype auto|float32|bfloat16|float16 (auto: float32 on CPU, the
checkpoint's half precision or bfloat16 on GPU), batch_size (sequences per forward pass), share_prefix,
trust_remote_code (off unless asked), max_length (default: the model config's context length).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from mmed.errors import ConfigError, MmedError
from mmed.eval.backends.base import GenerationParams, LoglikelihoodRequest, LoglikelihoodResult, ModelInfo

DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("auto", "float32", "bfloat16", "float16")
DEFAULT_MAX_LENGTH = 2048  # lm-eval's default when neither the config nor the tokenizer says


def load(spec: Any, **options: Any) -> HFBackend:
    """A ready backend for an hf spec (mmed.models.ModelSpec): smollm2, a local folder or hf:<id>."""
    from mmed.models import resolve_hf_path

    unknown = set(options) - set(inspect.signature(HFBackend.from_pretrained).parameters)
    if unknown:
        raise ConfigError(f"model '{spec.raw}': unknown option(s) {sorted(unknown)} for the hf backend; "
                          "known: device, dtype, batch_size, share_prefix, trust_remote_code, max_length")
    path = resolve_hf_path(spec)
    name = "SmolLM2-135M-Instruct" if spec.path == "smollm2" else (Path(path).name if Path(path).is_dir() else path)
    return HFBackend.from_pretrained(path, name=name, **options)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class HFBackend:
    """Implements mmed.eval.backends.base.Backend over a transformers model and its tokenizer."""

    def __init__(self, model: Any, tokenizer: Any, *, name: str, path: str, batch_size: int = 8,
                 share_prefix: bool = True, max_length: int | None = None, fingerprint: str | None = None):
        import transformers

        from mmed.models import fingerprint_hf

        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.share_prefix = share_prefix
        self.max_length = max_length or _max_length(model.config, tokenizer)
        self.device = model.device
        # Ids used only to fill padded positions (always masked out), so any valid id will do.
        self.pad_id = next(i for i in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0) if i is not None)
        self.prefix_id = prefix_token_id(tokenizer)
        self._keep_last = "logits_to_keep" in inspect.signature(model.forward).parameters
        # A sliding-window cache keeps only the last `window` positions: longer contexts cannot be shared.
        window = getattr(model.config, "sliding_window", None) if getattr(model.config, "use_sliding_window", True) \
            else None
        self._shareable = min(self.max_length + 1, window if isinstance(window, int) and window > 0 else 1 << 62)
        self.info = ModelInfo(
            name=name,
            fingerprint=fingerprint or fingerprint_hf(path),
            details={"path": path, "dtype": str(model.dtype).removeprefix("torch."), "device": str(self.device),
                     "transformers": transformers.__version__, "max_length": self.max_length,
                     "backend": "hf"},
        )

    @classmethod
    def from_pretrained(cls, path: str, *, name: str | None = None, device: str = "auto", dtype: str = "auto",
                        batch_size: int = 8, share_prefix: bool = True, trust_remote_code: bool = False,
                        max_length: int | None = None) -> HFBackend:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if device not in DEVICES:
            raise ConfigError(f"device must be one of {', '.join(DEVICES)}, got '{device}'")
        if dtype not in DTYPES:
            raise ConfigError(f"dtype must be one of {', '.join(DTYPES)}, got '{dtype}'")
        if device == "cuda" and not torch.cuda.is_available():
            raise ConfigError("device 'cuda' asked for but torch sees no CUDA GPU; use device 'cpu' or 'auto'")
        on_gpu = device == "cuda" or (device == "auto" and torch.cuda.is_available())
        from safetensors import SafetensorError

        try:
            tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
            model = AutoModelForCausalLM.from_pretrained(
                path, dtype=_torch_dtype(path, dtype, on_gpu, trust_remote_code), use_safetensors=True,
                trust_remote_code=trust_remote_code,
                # "auto" spreads a big model over every GPU (accelerate); "cuda" keeps it on one.
                device_map=("auto" if device == "auto" else "cuda") if on_gpu else None,
            )
        except (OSError, ValueError, ImportError, SafetensorError) as exc:
            raise MmedError(f"model '{path}': cannot load it with transformers ({type(exc).__name__}: {exc}); "
                            "expected a causal LM folder with config.json, tokenizer files and *.safetensors") from exc
        model.eval()
        return cls(model, tokenizer, name=name or path, path=path, batch_size=batch_size,
                   share_prefix=share_prefix, max_length=max_length)

    def _encode(self, text: str) -> list[int]:
        return encode(self.tokenizer, text)

    def _encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        return encode_pair(self.tokenizer, context, continuation, self.prefix_id)

    # --- loglikelihood --------------------------------------------------------------------------------

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[LoglikelihoodResult]:
        import torch

        results: list[LoglikelihoodResult | None] = [None] * len(requests)
        groups: dict[tuple[int, ...], list[tuple[int, list[int]]]] = {}
        full: list[tuple[int, list[int], list[int]]] = []
        for i, r in enumerate(requests):
            ctx, cont = self._encode_pair(r.context, r.continuation)
            if not cont:
                results[i] = LoglikelihoodResult(0.0, 0, True)  # log P(empty text) = 0
            elif len(cont) > self.max_length:
                raise MmedError(f"continuation of {len(cont)} tokens is longer than the model's max_length "
                                f"{self.max_length}: {r.continuation[:80]!r}")
            elif self.share_prefix:
                groups.setdefault(tuple(ctx), []).append((i, cont))
            else:
                full.append((i, ctx, cont))
        shared = []
        for ctx_key, members in groups.items():
            if len(ctx_key) + max(len(c) for _, c in members) > self._shareable:
                # Truncation would cut a different amount of context per continuation (or a sliding-window cache
                # would drop part of the context): no shared prefix.
                full.extend((i, list(ctx_key), c) for i, c in members)
            else:
                shared.append((list(ctx_key), members))
        with torch.inference_mode():
            scored = self._shared_prefixes([(ctx, [c for _, c in members]) for ctx, members in shared])
            for (_, members), group_results in zip(shared, scored, strict=True):
                for (i, _), res in zip(members, group_results, strict=True):
                    results[i] = res
            for (i, _, _), res in zip(full, self._full_sequences([(c, t) for _, c, t in full]), strict=True):
                results[i] = res
        return results  # type: ignore[return-value]  # every slot is filled above

    def _full_sequences(self, pairs: list[tuple[list[int], list[int]]]) -> list[LoglikelihoodResult]:
        """The lm-eval way: each (context, continuation) is one sequence; batched longest first, right-padded."""
        out: list[LoglikelihoodResult | None] = [None] * len(pairs)
        order = sorted(range(len(pairs)), key=lambda k: -(len(pairs[k][0]) + len(pairs[k][1])))
        for batch in _chunks(order, self.batch_size):
            # Left truncation as lm-eval: the last max_length+1 tokens, minus the last (it is only predicted).
            inputs = [(pairs[k][0] + pairs[k][1])[-(self.max_length + 1):][:-1] for k in batch]
            ids, mask = self._pad(inputs, left=False)
            logits = self.model(input_ids=ids, attention_mask=mask).logits
            for row, k in enumerate(batch):
                cont = pairs[k][1]
                end = len(inputs[row])
                out[k] = _score(logits[row, end - len(cont):end], cont)
        return out  # type: ignore[return-value]

    def _shared_prefixes(self, groups: list[tuple[list[int], list[list[int]]]]) -> list[list[LoglikelihoodResult]]:
        """Each context encoded once, its continuations scored on top of its KV cache.

        Up to batch_size contexts go through one forward pass (right-padded, so padded cache slots sit after
        each context and are masked out later; its cache is kept). The continuations of those contexts then go
        through batched passes of batch_size rows, each row reusing its context's cache (cache rows selected
        per continuation), with positions continuing after its own context. A continuation's first token is
        predicted by its context's last logits, so one-token continuations need no second pass.
        """
        import torch

        out: list[list[LoglikelihoodResult]] = [[] for _ in groups]
        order = sorted(range(len(groups)), key=lambda g: -len(groups[g][0]))  # similar lengths pad less
        for batch in _chunks(order, self.batch_size):
            ids, ctx_mask = self._pad([groups[g][0] for g in batch], left=False)
            lengths = ctx_mask.sum(-1)
            if self._keep_last:  # project only the positions we read onto the vocabulary
                keep = torch.unique(lengths - 1)
                first = self.model(input_ids=ids, attention_mask=ctx_mask, use_cache=True, logits_to_keep=keep)
                rows = torch.searchsorted(keep, lengths - 1)
            else:
                first = self.model(input_ids=ids, attention_mask=ctx_mask, use_cache=True)
                rows = lengths - 1
            last = first.logits[torch.arange(len(batch), device=self.device), rows]  # [contexts, vocab]
            members = [(j, cont) for j, g in enumerate(batch) for cont in groups[g][1]]
            longer = [(j, cont) for j, cont in members if len(cont) > 1]
            rest: list[Any] = []
            for chunk in _chunks(longer, self.batch_size):
                ctx_rows = torch.tensor([j for j, _ in chunk], device=self.device)
                cont_ids, cont_mask = self._pad([cont[:-1] for _, cont in chunk], left=False)
                past = copy.deepcopy(first.past_key_values)  # a forward pass appends to the cache it is given
                past.batch_select_indices(ctx_rows)
                positions = lengths[ctx_rows, None] + torch.arange(cont_ids.shape[1], device=self.device)[None]
                mask = torch.cat([ctx_mask[ctx_rows], cont_mask], 1)  # the padded cache slots stay masked
                rest += list(self.model(input_ids=cont_ids, attention_mask=mask, position_ids=positions,
                                        past_key_values=past).logits)
            for j, cont in members:
                logits = last[j:j + 1]
                if len(cont) > 1:
                    logits = torch.cat([logits, rest.pop(0)[:len(cont) - 1]])
                out[batch[j]].append(_score(logits, cont))
        return out

    def _pad(self, seqs: Sequence[list[int]], *, left: bool) -> tuple[Any, Any]:
        """(input_ids, attention_mask) tensors; padded positions are masked out."""
        import torch

        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for row, s in enumerate(seqs):
            cols = slice(width - len(s), width) if left else slice(0, len(s))
            ids[row, cols] = torch.tensor(s, dtype=torch.long)
            mask[row, cols] = 1
        return ids.to(self.device), mask.to(self.device)

    # --- next-token log-probabilities -----------------------------------------------------------------

    def next_token_logprobs(self, prompts: Sequence[str], candidates: Sequence[Sequence[str]]) -> list[list[float]]:
        """Log-softmax at the prompt's last position, read at each candidate's first token.

        A candidate's first token is the first token of tokenise(prompt + candidate) after tokenise(prompt),
        with the prompt's trailing whitespace moved onto the candidate as in loglikelihood ("Answer: " + "B"
        scores the token " B" after "Answer:").
        """
        import torch

        encoded: list[list[int]] = []
        targets: list[list[int]] = []
        for context, firsts in candidate_first_tokens(self.tokenizer, prompts, candidates, self.prefix_id):
            encoded.append(context[-self.max_length:])
            targets.append(firsts)
        out: list[list[float] | None] = [None] * len(prompts)
        keep = {"logits_to_keep": 1} if self._keep_last else {}
        order = sorted(range(len(encoded)), key=lambda k: -len(encoded[k]))
        with torch.inference_mode():
            for batch in _chunks(order, self.batch_size):
                ids, mask = self._pad([encoded[k] for k in batch], left=True)
                # Left padding shifts the real tokens: positions must count only them.
                positions = (mask.cumsum(-1) - 1).clamp(min=0)
                logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, **keep).logits
                logprobs = torch.log_softmax(logits[:, -1].float(), dim=-1)
                for row, k in enumerate(batch):
                    out[k] = [float(logprobs[row, t]) for t in targets[k]]
        return out  # type: ignore[return-value]

    # --- generation -----------------------------------------------------------------------------------

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[str]:
        """Greedy (temperature 0) or seeded sampling, batched with left padding; cut at the first stop string.

        Sampling uses plain temperature sampling (no top-k/top-p, the model's generation defaults ignored);
        its draws depend on how prompts are batched, so only greedy output is independent of batch_size.
        """
        import torch
        from transformers import GenerationConfig

        if params.max_new_tokens < 1:
            return ["" for _ in prompts]
        budget = max(1, self.max_length - params.max_new_tokens)
        encoded = [self._encode(p)[-budget:] for p in prompts]
        defaults = self.model.generation_config
        sample = params.temperature > 0
        config = GenerationConfig(
            max_new_tokens=params.max_new_tokens, do_sample=sample, num_beams=1,
            temperature=params.temperature if sample else None, top_k=0 if sample else None,
            top_p=1.0 if sample else None, eos_token_id=defaults.eos_token_id, pad_token_id=self.pad_id,
            bos_token_id=defaults.bos_token_id, stop_strings=[s for s in params.stop if s] or None,
        )
        out: list[str | None] = [None] * len(prompts)
        order = sorted(range(len(encoded)), key=lambda k: -len(encoded[k]))
        with torch.inference_mode(), torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(params.seed)
            for batch in _chunks(order, self.batch_size):
                ids, mask = self._pad([encoded[k] for k in batch], left=True)
                tokens = self.model.generate(input_ids=ids, attention_mask=mask, generation_config=config,
                                             tokenizer=self.tokenizer)
                for row, k in enumerate(batch):
                    text = self.tokenizer.decode(tokens[row, ids.shape[1]:], skip_special_tokens=True)
                    out[k] = cut_at_stop(text, params.stop)
        return out  # type: ignore[return-value]

    def chat_prompt(self, user_message: str) -> str | None:
        if not getattr(self.tokenizer, "chat_template", None):
            return None
        return self.tokenizer.apply_chat_template([{"role": "user", "content": user_message}], tokenize=False,
                                                  add_generation_prompt=True)


# --- tokenisation (lm-eval's rules; shared with the vLLM backend) ------------------------------------------

def encode(tokenizer: Any, text: str) -> list[int]:
    """Token ids of text. Special tokens (BOS) only as the tokenizer adds them by default, and never twice: a
    text that already starts with the BOS text (chat templates often write it) is encoded without (lm-eval)."""
    bos = getattr(tokenizer, "bos_token", None)
    return tokenizer.encode(text, add_special_tokens=not (bos and text.startswith(bos)))


def encode_pair(tokenizer: Any, context: str, continuation: str, prefix_id: int) -> tuple[list[int], list[int]]:
    """(context ids, continuation ids) as lm-eval's HFLM makes them; prefix_id (BOS, else EOS) stands for an
    empty context."""
    # Trailing whitespace of the context belongs to the continuation's first word ("Answer:" + " B").
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        context, continuation = context[:-n_spaces], context[-n_spaces:] + continuation
    if not context:  # condition on BOS (or EOS) alone, like lm-eval
        cont = tokenizer.encode(continuation, add_special_tokens=False)
        return ([prefix_id], cont) if cont[:1] != [prefix_id] else (cont[:1], cont[1:])
    # Encode the whole text and split it: tokens at the boundary merge as they would in running text.
    whole = encode(tokenizer, context + continuation)
    ctx = encode(tokenizer, context)
    return ctx, whole[len(ctx):]


def candidate_first_tokens(tokenizer: Any, prompts: Sequence[str], candidates: Sequence[Sequence[str]],
                           prefix_id: int) -> list[tuple[list[int], list[int]]]:
    """For next-token scoring: each prompt's ids and its candidates' first tokens (after the prompt, split as
    encode_pair splits). A candidate that adds no token, or two that start with the same token, cannot be
    scored this way: a clear error says to use option scoring."""
    if len(prompts) != len(candidates):
        raise ValueError(f"{len(prompts)} prompts but {len(candidates)} candidate lists")
    out: list[tuple[list[int], list[int]]] = []
    for prompt, cands in zip(prompts, candidates, strict=True):
        pairs = [encode_pair(tokenizer, prompt, c, prefix_id) for c in cands]
        firsts: list[int] = []
        for cand, (_, cont) in zip(cands, pairs, strict=True):
            if not cont:
                raise MmedError(f"candidate {cand!r} adds no token after the prompt ending {prompt[-40:]!r}")
            firsts.append(cont[0])
        if len(set(firsts)) < len(firsts):
            shown = ", ".join(f"{c!r}->{tokenizer.decode([f])!r}" for c, f in zip(cands, firsts, strict=True))
            raise MmedError(f"candidates share a first token ({shown}): next-token scoring cannot tell them "
                            "apart; use option (log-likelihood) scoring for these items")
        out.append((pairs[0][0] if pairs else encode(tokenizer, prompt), firsts))
    return out


def prefix_token_id(tokenizer: Any) -> int:
    """lm-eval's stand-in for an empty context: BOS, else EOS."""
    return tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id


def _score(logits: Any, cont: list[int]) -> LoglikelihoodResult:
    """Sum of the continuation's log-probs from the logits that predict it (one row per token)."""
    import torch

    logprobs = torch.log_softmax(logits.float(), dim=-1)
    target = torch.tensor(cont, device=logprobs.device)
    picked = logprobs.gather(1, target[:, None]).squeeze(1)
    return LoglikelihoodResult(float(picked.sum()), len(cont), bool((logprobs.argmax(-1) == target).all()))


def cut_at_stop(text: str, stops: Sequence[str]) -> str:
    """Text up to (not including) the earliest occurrence of any stop string."""
    cut = min((text.index(s) for s in stops if s and s in text), default=len(text))
    return text[:cut]


def _max_length(config: Any, tokenizer: Any) -> int:
    """The model's context length: its config, else the tokenizer's (when set), else lm-eval's default."""
    config = getattr(config, "text_config", None) or config
    for attr in ("max_position_embeddings", "n_positions", "seq_length", "max_sequence_length"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    value = getattr(tokenizer, "model_max_length", None)
    return value if isinstance(value, int) and 0 < value < 1_000_000_000 else DEFAULT_MAX_LENGTH


def _torch_dtype(path: str, dtype: str, on_gpu: bool, trust_remote_code: bool) -> Any:
    """float32 on CPU (fast there and exact); on GPU the checkpoint's half precision, else bfloat16."""
    import torch

    if dtype != "auto":
        return getattr(torch, dtype)
    if not on_gpu:
        return torch.float32
    from transformers import AutoConfig

    saved = getattr(AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code), "dtype", None)
    if saved in (torch.float16, torch.bfloat16, "float16", "bfloat16"):
        return getattr(torch, str(saved).removeprefix("torch."))
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
