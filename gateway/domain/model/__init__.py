"""The canonical model of Ketenpoort: one typed model for the envelope and every BerichtType.

Every partner format is translated to and from this model by an adapter. The model imports
nothing of the project (only pydantic and the standard library), so policy, pipeline, audit
and adapters can all depend on it.

Need-to-know: every body field carries its categories (spec §7) as ``Annotated`` metadata
(:class:`Cat`). A field's *effective* categories are its own plus those of every model field
that contains it; a recipient receives a field only when all of its effective categories are
granted. A list item may add categories from its content through ``extra_categorieen`` (a
person whose rol is ``kind`` is data about a minor, so it also needs ``kind``). The filter in
``gateway.decision.needtoknow`` walks these annotations; it has no code per BerichtType.

Body fields are optional in the canonical model: which ones a sender must fill is the
sender's XSD's business (``schemas/v1``); what a recipient receives depends on its grants.

The BerichtTypes' bodies are data: each is a definition in the policy (``typen.yaml``) from
which :mod:`~gateway.domain.model.definitie` builds its model class at start.

The package: ``codes`` (the protocol's code lists), ``part`` (the base class and the
need-to-know annotations), ``definitie`` (a BerichtType's definition and its model) and
``envelope`` (Partij, Kop, Bericht and the technical bodies). This module re-exports their
public names, so ``from gateway.domain.model import X`` is the one way in.
"""

from gateway.domain.model import codes, definitie, envelope, part
from gateway.domain.model.codes import *  # noqa: F403 - the package's face: every public name
from gateway.domain.model.definitie import *  # noqa: F403 - likewise
from gateway.domain.model.envelope import *  # noqa: F403 - likewise
from gateway.domain.model.part import *  # noqa: F403 - likewise

__all__ = codes.__all__ + part.__all__ + definitie.__all__ + envelope.__all__
