"""An institution's SNOMED CT terminology, beside the value sets shipped in the package.

Concepts are defined by SNOMED CT roots (a code and all its descendants). The package ships
expansions made from public sources (cds_service/knowledge/valuesets); a site may add

- a FHIR R4 terminology server (`[terminology] url`): the service expands every concept root
  there at start and on a schedule, keeps the codes with the server's version in its database,
  and asks the server about a code met in a request that no expansion knows (`$subsumes`,
  within the request's deadline; the answer is cached);
- a SNOMED CT RF2 release it holds a licence for (`rheum-cds terminology import-snomed`): the
  descendant closure of every root, built from the release's IS-A relationships.

Modules: `client` (HTTP), `store` (tables), `service` (`Terminology`: load, refresh, resolve),
`rf2` (the RF2 closure). See docs/terminology.md.
"""

from cds_service.terminology.service import Terminology
from cds_service.terminology.store import TerminologyStore

__all__ = ["Terminology", "TerminologyStore"]
