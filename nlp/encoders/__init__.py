"""Text encoders (MiniLM int8/torch, the distilled student, TF-IDF), their registry, the int8 export,
fine-tuning and distillation of encoders, and the user cache of built models."""

from __future__ import annotations

from cxlens.nlp.encoders._distill import (  # noqa: F401
    DISTILL_DEFAULTS,
    distill_encoder,
)
from cxlens.nlp.encoders._encoders import (  # noqa: F401
    DEFAULT_MAX_LENGTH,
    Encoder,
    MiniLMEncoder,
    STUDENT_ENCODER,
    TUNABLE_ENCODERS,
    TfidfEncoder,
    check_encoder_name,
    cuda_available,
    get_encoder,
    get_encoder_names,
    get_tuned_encoder,
    register_encoder,
)
from cxlens.nlp.encoders._finetune import (  # noqa: F401
    BASES,
    FINETUNE_DEFAULTS,
    finetune_encoder,
    finetune_key,
    store_tuned_encoder,
    stored_tuned_encoder,
    tuning_base,
)
from cxlens.nlp.encoders._model_cache import (  # noqa: F401
    CACHE_KINDS,
    CacheEntry,
    cache_entries,
    clear_cache,
)
from cxlens.nlp.encoders._onnx_export import (  # noqa: F401
    EXPORT_VERSION,
    FFN_INPUT_NODES,
    FFN_OUTPUT_NODES,
    build_int8_model,
    ensure_int8_model,
    fp32_matmuls,
)
from cxlens.nlp.encoders._runtime import (  # noqa: F401
    cache_dir,
    default_num_threads,
    minilm_model_dir,
)
from cxlens.nlp.encoders._student import (  # noqa: F401
    STUDENT_DIR,
    is_student_folder,
    save_tuned_student,
    student_model_dir,
)

__all__ = [
    "BASES",
    "CACHE_KINDS",
    "CacheEntry",
    "DEFAULT_MAX_LENGTH",
    "DISTILL_DEFAULTS",
    "EXPORT_VERSION",
    "Encoder",
    "FFN_INPUT_NODES",
    "FFN_OUTPUT_NODES",
    "FINETUNE_DEFAULTS",
    "MiniLMEncoder",
    "STUDENT_DIR",
    "STUDENT_ENCODER",
    "TUNABLE_ENCODERS",
    "TfidfEncoder",
    "build_int8_model",
    "cache_dir",
    "cache_entries",
    "check_encoder_name",
    "clear_cache",
    "cuda_available",
    "default_num_threads",
    "distill_encoder",
    "ensure_int8_model",
    "finetune_encoder",
    "finetune_key",
    "fp32_matmuls",
    "get_encoder",
    "get_encoder_names",
    "get_tuned_encoder",
    "is_student_folder",
    "minilm_model_dir",
    "register_encoder",
    "save_tuned_student",
    "store_tuned_encoder",
    "stored_tuned_encoder",
    "student_model_dir",
    "tuning_base",
]
