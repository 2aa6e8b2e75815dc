"""Clinical knowledge shipped as data: concepts, value sets, rule parameters, label doses.

Every file in this folder is TOML. `load_knowledge()` reads them all once at start-up and
returns a read-only `Knowledge`. Institutions extend codes and override configurable
parameters through the service configuration (see cds_service.config).
"""

from cds_service.knowledge.loader import (
    Knowledge,
    KnowledgeError,
    load_knowledge,
    observation_loinc_codes,
)

__all__ = ["Knowledge", "KnowledgeError", "load_knowledge", "observation_loinc_codes"]
